using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Flowers.Acquire;

/// <summary>
/// Downloads a URL once into a cache folder keyed by the URL. Bytes go to "&lt;file&gt;.partial"; an interrupted
/// download resumes from there with an HTTP Range request (guarded by If-Range with the ETag or Last-Modified
/// seen before); only a complete file is renamed, atomically, to its final name, so no half file is ever used.
/// A complete file that <paramref name="check"/> refuses (an HTML page where an archive was expected) is deleted, not
/// cached, so a one-off bad answer cannot poison the URL. A download that takes longer than <paramref name="deadline"/>
/// overall is abandoned (resumable), however steadily it trickles.
/// </summary>
/// <param name="check">Why the complete download is not what was asked for, or null when it is.</param>
public sealed class DownloadCache(string directory, HttpClient http, TimeSpan stallTimeout, long maxBytes,
    TimeSpan? deadline = null, Func<string, string?>? check = null)
{
    private const int ReportEveryBytes = 1 << 20;

    /// <summary>Where the complete download of <paramref name="url"/> is (or will be) kept.</summary>
    public string PathFor(Uri url) => Path.Combine(directory, KeyOf(url), FileNameOf(url));

    /// <summary>The URL's file in the cache, downloading (or resuming) it first when it is not there yet.</summary>
    /// <exception cref="DatasetUnavailableException">Unreachable, an HTTP error, or broken off (run again to resume).</exception>
    public async Task<string> GetAsync(Uri url, IProgress<AcquireProgress>? progress = null, CancellationToken ct = default)
    {
        var final = PathFor(url);
        if (File.Exists(final))
            return final;
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var partial = final + ".partial";
        var validatorFile = partial + ".validator";

        FileStream output;
        try
        {
            // Exclusive: a second process downloading the same URL must not write into the same partial file.
            output = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: true);
        }
        catch (IOException e)
        {
            throw new DatasetUnavailableException(url.ToString(),
                $"'{partial}' is in use: another process seems to be downloading {url}. Wait for it to finish.", e);
        }

        using var overall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (deadline is { } limit) overall.CancelAfter(limit);
        await using (output)
        {
            for (var attempt = 0; ; attempt++)
            {
                bool restart;
                try { restart = await DownloadIntoAsync(url, output, validatorFile, progress, overall.Token); }
                catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
                {
                    await output.FlushAsync(CancellationToken.None);
                    throw new DatasetUnavailableException(url.ToString(),
                        $"Download of {url} took longer than the limit of {deadline!.Value.TotalMinutes:0.##} min ({output.Length:N0} bytes so far). Run again to resume it.", e);
                }
                if (!restart)
                    break;
                if (attempt > 0)
                    throw new DatasetUnavailableException(url.ToString(), $"The server for {url} does not answer range requests consistently.");
                output.SetLength(0);   // the partial bytes do not match what the server has now: start over
                File.Delete(validatorFile);
            }
            output.Flush(flushToDisk: true);
        }
        if (check?.Invoke(partial) is { } problem)
        {
            File.Delete(partial);
            File.Delete(validatorFile);
            throw new DatasetUnavailableException(url.ToString(), $"The answer from {url} {problem}; it was not cached.");
        }
        File.Move(partial, final, overwrite: true);
        File.Delete(validatorFile);
        return final;
    }

    /// <returns>True when the partial file must be discarded and the download started over.</returns>
    private async Task<bool> DownloadIntoAsync(Uri url, FileStream output, string validatorFile,
        IProgress<AcquireProgress>? progress, CancellationToken ct)
    {
        var have = output.Length;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
            if (ReadValidator(validatorFile) is { } validator)
                request.Headers.IfRange = validator;
        }

        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stall.CancelAfter(stallTimeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token);
        }
        catch (HttpRequestException e)
        {
            throw new DatasetUnavailableException(url.ToString(), $"Cannot download {url}: {Describe(url, e)}. Are you offline?", e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new DatasetUnavailableException(url.ToString(),
                $"Cannot download {url}: no answer within {stallTimeout.TotalSeconds:0} s. Are you offline?", e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
                return true;
            if (!response.IsSuccessStatusCode)
                throw new DatasetUnavailableException(url.ToString(),
                    $"Cannot download {url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.");

            long offset = 0;
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                if (response.Content.Headers.ContentRange?.From != have)
                    return true;
                offset = have;
            }
            output.SetLength(offset);   // a 200 answer to a range request means the server sends everything again
            output.Position = offset;

            var total = response.Content.Headers.ContentRange?.Length
                ?? (response.Content.Headers.ContentLength is { } length ? offset + length : null);
            if (total > maxBytes)
                throw new UnsafeArchiveException(url.ToString(), FileNameOf(url), $"is {total:N0} bytes, more than the limit of {maxBytes:N0}");
            WriteValidator(validatorFile, response);

            var done = offset;
            var lastReport = done;
            progress?.Report(new AcquireProgress(AcquireStage.Download, done, total, url.ToString()));
            var buffer = new byte[1 << 16];
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(stall.Token);
                while (true)
                {
                    stall.CancelAfter(stallTimeout);   // a stall is a gap between reads, not the whole download
                    var read = await body.ReadAsync(buffer, stall.Token);
                    if (read == 0)
                        break;
                    done += read;
                    if (done > maxBytes)
                    {
                        output.SetLength(0);
                        throw new UnsafeArchiveException(url.ToString(), FileNameOf(url), $"is more than the limit of {maxBytes:N0} bytes");
                    }
                    await output.WriteAsync(buffer.AsMemory(0, read), ct);
                    if (done - lastReport >= ReportEveryBytes)
                    {
                        progress?.Report(new AcquireProgress(AcquireStage.Download, done, total, url.ToString()));
                        lastReport = done;
                    }
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                await output.FlushAsync(CancellationToken.None);
                throw BrokenOff(url, done, total, e is OperationCanceledException ? $"nothing received for {stallTimeout.TotalSeconds:0} s" : e.Message, e);
            }
            await output.FlushAsync(ct);
            if (total is { } expected && done != expected)
                throw BrokenOff(url, done, total, "the connection closed early", null);
            progress?.Report(new AcquireProgress(AcquireStage.Download, done, total ?? done, url.ToString()));
            return false;
        }
    }

    private static DatasetUnavailableException BrokenOff(Uri url, long done, long? total, string why, Exception? inner) =>
        new(url.ToString(),
            $"Download of {url} broke off after {done:N0}{(total is { } t ? $" of {t:N0}" : "")} bytes ({why}). Run again to resume it.", inner);

    private static string Describe(Uri url, HttpRequestException e)
    {
        var socket = e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
        return (e.HttpRequestError, socket?.SocketErrorCode) switch
        {
            (HttpRequestError.NameResolutionError, _) or (_, SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData)
                => $"the host name '{url.Host}' does not resolve",
            (_, SocketError.ConnectionRefused) => "the connection was refused",
            (_, SocketError.TimedOut) => "connecting timed out",
            (_, SocketError.NetworkUnreachable or SocketError.HostUnreachable) => "the network is unreachable",
            _ => e.Message,
        };
    }

    private static RangeConditionHeaderValue? ReadValidator(string path)
    {
        if (!File.Exists(path))
            return null;
        var text = File.ReadAllText(path).Trim();
        if (EntityTagHeaderValue.TryParse(text, out var tag) && !tag.IsWeak)
            return new RangeConditionHeaderValue(tag);
        return DateTimeOffset.TryParse(text, out var date) ? new RangeConditionHeaderValue(date) : null;
    }

    private static void WriteValidator(string path, HttpResponseMessage response)
    {
        var validator = response.Headers.ETag is { IsWeak: false } tag ? tag.ToString()
            : response.Content.Headers.LastModified?.ToString("R");
        if (validator is null)
            File.Delete(path);
        else
            File.WriteAllText(path, validator);
    }

    private static string KeyOf(Uri url) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.AbsoluteUri)))[..16];

    private static string FileNameOf(Uri url)
    {
        var name = Uri.UnescapeDataString(url.Segments.LastOrDefault() ?? "").Trim('/');
        foreach (var bad in Path.GetInvalidFileNameChars().Append('\\'))
            name = name.Replace(bad, '_');
        return name is "" or "." or ".." ? "download" : name;
    }
}
