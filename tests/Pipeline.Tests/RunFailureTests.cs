using Microsoft.DurableTask;

namespace Flowers.Pipeline.Tests;

/// <summary>What a failed run's status says: the product's own errors by code and message, paths cut, anything else by step alone.</summary>
public class RunFailureTests
{
    static TaskFailureDetails Activity(string type, string message) =>
        new("Microsoft.DurableTask.TaskFailedException", $"Task 'IngestActivity' (#0) failed with an unhandled exception: {message}", null,
            new TaskFailureDetails(type, message, "   at Flowers.Pipeline.IngestActivity.RunAsync() in /src/Core/Pipeline/IngestActivity.cs:line 80", null, null), null);

    [Fact]
    public void A_host_error_shows_its_step_and_kind_but_not_its_text()
    {
        var (code, message) = RunFailure.Describe(Activity("System.IO.IOException", "Disk full writing /home/site/wwwroot/.cache/flowers/abc/x.tgz"));
        Assert.Equal(RunFailure.Internal, code);
        Assert.Equal("the run failed in its IngestActivity step (IOException); the host's log has the details", message);
    }

    [Theory]
    [InlineData("Flowers.Acquire.UnusableDatasetException", RunFailure.UnusableDataset)]
    [InlineData("Flowers.Acquire.DatasetUnavailableException", RunFailure.DatasetUnavailable)]
    [InlineData("Flowers.Acquire.UnsafeArchiveException", RunFailure.UnsafeArchive)]
    [InlineData("Flowers.Pipeline.RefusedSourceException", RunFailure.RefusedSource)]
    public void The_products_own_errors_keep_their_message_without_host_paths(string type, string expected)
    {
        var (code, message) = RunFailure.Describe(Activity(type, "source '/tmp/flowers-cache/9f/photos' has no photos; see http://example.com/a/b.tgz or C:\\data\\set\\x.zip"));
        Assert.Equal(expected, code);
        Assert.Equal("source '…/photos' has no photos; see http://example.com/a/b.tgz or …\\x.zip", message);
    }
}
