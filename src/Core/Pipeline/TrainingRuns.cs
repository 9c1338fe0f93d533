using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Flowers.Pipeline;

/// <summary>How POST /api/training ended: started, already running (409), or a bad request (400).</summary>
public sealed record TrainingStart(TrainingStartStatus Status, string? InstanceId, string? Error)
{
    public static TrainingStart Started(string id) => new(TrainingStartStatus.Started, id, null);
    public static TrainingStart AlreadyRunning(string id) => new(TrainingStartStatus.AlreadyRunning, id, $"a training run of this data set is already running: {id}");
    public static TrainingStart Invalid(string error) => new(TrainingStartStatus.Invalid, null, error);
}

public enum TrainingStartStatus { Started, AlreadyRunning, Invalid }

/// <summary>What GET /api/training/{id} shows.</summary>
public sealed record TrainingRunView(
    string Id,
    string RuntimeStatus,
    TrainingProgress? Progress,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    TrainingOutcome? Result,
    string? Error,
    string? ErrorCode = null);

/// <summary>
/// Starting and watching training runs through any DurableTaskClient. One run per data set at a time:
/// the instance id is derived from the data set ("training-{dataset}"), and a request for a data set whose
/// run is pending or running is refused with that run's id. (Two requests in the same instant can both
/// pass the check; the backend then keeps one instance per id.)
/// </summary>
public sealed class TrainingRuns(TrainingSettings settings)
{
    public static string InstanceIdFor(string dataset) => $"training-{dataset}";

    public async Task<TrainingStart> StartAsync(DurableTaskClient client, string? body, CancellationToken ct = default)
    {
        TrainingRequest request;
        try { request = await TrainingRequestReader.ReadAsync(body, settings, ct); }
        catch (TrainingRequestException e) { return TrainingStart.Invalid(e.Message); }

        var id = InstanceIdFor(request.Dataset);
        var existing = await client.GetInstanceAsync(id, getInputsAndOutputs: false, ct);
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended })
            return TrainingStart.AlreadyRunning(id);
        await client.ScheduleNewOrchestrationInstanceAsync(TrainingOrchestration.Name, request, new StartOrchestrationOptions(id), ct);
        return TrainingStart.Started(id);
    }

    /// <summary>The run's stage, progress, and on completion its outcome or error; null for an unknown id.</summary>
    public static async Task<TrainingRunView?> GetAsync(DurableTaskClient client, string id, CancellationToken ct = default)
    {
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct);
        if (instance is null) return null;
        var failure = instance.FailureDetails is { } details ? RunFailure.Describe(details) : default((string Code, string Message)?);
        return new TrainingRunView(
            id,
            instance.RuntimeStatus.ToString(),
            Deserialize<TrainingProgress>(instance.SerializedCustomStatus),
            instance.CreatedAt,
            instance.LastUpdatedAt,
            instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? Deserialize<TrainingOutcome>(instance.SerializedOutput) : null,
            failure?.Message,
            failure?.Code);
    }

    // The Durable Task SDK's default data converter is System.Text.Json with web defaults.
    private static T? Deserialize<T>(string? json) =>
        string.IsNullOrEmpty(json) ? default : JsonSerializer.Deserialize<T>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
