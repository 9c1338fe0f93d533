using Flowers.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Flowers.Functions;

/// <summary>The training orchestration (its steps are in Core: TrainingOrchestration).</summary>
public static class TrainingOrchestrator
{
    [Function(TrainingOrchestration.Name)]
    public static Task<TrainingOutcome> Run([OrchestrationTrigger] TaskOrchestrationContext context) =>
        TrainingOrchestration.RunAsync(context, context.GetInput<TrainingRequest>()
            ?? throw new ArgumentException("the training orchestration needs a TrainingRequest input"));
}
