using Flowers.Pipeline;

namespace Flowers.Train.Tests;

/// <summary>Issue 17: a trainer whose native part does not load is refused at once, naming what is missing.</summary>
public class TrainerNativePartsTests
{
    [Fact]
    public void LightGbm_loads_here_and_the_managed_trainers_need_nothing_native()
    {
        Assert.Null(TrainerNativeParts.Missing(TrainerOptions.LightGbm)); // lib_lightgbm and libgomp.so.1 are on this machine
        Assert.Null(TrainerNativeParts.Missing(TrainerOptions.Lbfgs));
        Assert.Null(TrainerNativeParts.Missing(TrainerOptions.Sdca));
    }

    [Fact]
    public void A_native_library_that_does_not_load_is_named_with_what_to_do()
    {
        var message = TrainerNativeParts.MissingLibrary("lib_flowers_absent_trainer", typeof(TrainerNativeParts).Assembly, TrainerOptions.LightGbm);
        Assert.NotNull(message);
        Assert.Contains("trainer 'lightgbm' cannot run on this host", message);
        Assert.Contains("lib_flowers_absent_trainer", message);
        Assert.Contains("'lbfgs' or 'sdca'", message);
        if (OperatingSystem.IsLinux()) Assert.Contains("libgomp.so.1", message);
    }

    [Fact]
    public void A_trainer_that_cannot_run_is_a_failure_with_its_own_code_and_is_not_retried()
    {
        var failure = new Microsoft.DurableTask.TaskFailureDetails(typeof(TrainerUnavailableException).FullName!, "trainer 'lightgbm' cannot run on this host", null, null, null);
        Assert.Equal(RunFailure.TrainerUnavailable, RunFailure.Describe(failure).Code);
        Assert.False(TrainingOrchestration.IsRetried(failure));
        Assert.True(TrainingOrchestration.IsRetried(
            new Microsoft.DurableTask.TaskFailureDetails(typeof(IOException).FullName!, "storage went away", null, null, null)));
    }
}
