namespace Flowers.Deployment.Tests;

/// <summary>
/// Names of functions in src/Functions that the infrastructure refers to, kept in this one place.
/// The post-deploy hook points Event Grid at Host.Functions.{Labelling}.
/// </summary>
public static class FunctionNames
{
    /// <summary>The blob-triggered function that labels photos dropped in the uploads container.</summary>
    public const string Labelling = "LabelUploadEventGrid";
}
