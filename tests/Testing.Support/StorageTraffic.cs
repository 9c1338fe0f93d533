using Azure.Core;
using Azure.Core.Pipeline;

namespace Flowers.Testing;

/// <summary>
/// Test-only policy in a BlobServiceClient's pipeline: counts requests and can fail chosen ones once with a
/// 503 before they leave (a transient fault the real code must survive). It sits per call, before the SDK's
/// own retries, so the fault reaches the calling code the way an exhausted retry would.
/// </summary>
public sealed class StorageTraffic : HttpPipelinePolicy
{
    private readonly List<(Func<HttpMessage, bool> When, int Remaining)> _faults = [];
    private readonly List<(string Method, string Path)> _requests = [];

    public int FaultsInjected { get; private set; }

    /// <summary>Fails the next <paramref name="times"/> requests that match.</summary>
    public void FailNext(Func<HttpMessage, bool> when, int times = 1)
    {
        lock (_faults) _faults.Add((when, times));
    }

    public int Count(string method, string pathContains)
    {
        lock (_requests) return _requests.Count(r => r.Method == method && r.Path.Contains(pathContains, StringComparison.Ordinal));
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Before(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Before(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Before(HttpMessage message)
    {
        lock (_requests) _requests.Add((message.Request.Method.ToString(), message.Request.Uri.Path));
        lock (_faults)
        {
            for (var i = 0; i < _faults.Count; i++)
            {
                if (_faults[i].Remaining == 0 || !_faults[i].When(message)) continue;
                _faults[i] = (_faults[i].When, _faults[i].Remaining - 1);
                FaultsInjected++;
                throw new Azure.RequestFailedException(503, $"injected transient fault: {message.Request.Method} {message.Request.Uri.Path}");
            }
        }
    }
}
