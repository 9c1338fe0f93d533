namespace Flowers.Runs;

/// <summary>
/// The stages of a training run, in order: one vocabulary for the in-process run (`flowers train --in-process`),
/// the durable orchestration's custom status (GET /api/training/{id}) and both progress displays.
/// </summary>
public static class TrainingStages
{
    /// <summary>Acquire the data set and split it (and, in the durable run, pack its photos into Blob Storage).</summary>
    public const string Ingest = "ingest";
    public const string Featurize = "featurize";
    /// <summary>Train the classifier, evaluate it on the test side, package it and render its report.</summary>
    public const string Train = "train";
    /// <summary>Durable run only: make the model the current one, if it passes the gate.</summary>
    public const string Publish = "publish";
    /// <summary>Durable run only: label the uploads that waited for a model.</summary>
    public const string LabelUploads = "label-uploads";
    public const string Done = "done";

    /// <summary>The stages a person watches: the durable run's, of which the in-process run has the first three.</summary>
    public static IReadOnlyList<string> Shown { get; } = [Ingest, Featurize, Train, Publish];
}

/// <summary>How far a stage of a training run has got.</summary>
/// <param name="Stage">One of <see cref="TrainingStages"/>.</param>
/// <param name="Done">Units done (photos, bytes, ...).</param>
/// <param name="Total">Units in all, when known.</param>
/// <param name="Item">What is being worked on, for display.</param>
public sealed record StageProgress(string Stage, long Done, long? Total, string? Item = null);
