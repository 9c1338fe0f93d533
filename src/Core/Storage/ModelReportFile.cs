using Flowers.Report;

namespace Flowers.Storage;

/// <summary>
/// One file of a model's run report as an HTTP answer: its bytes and the headers to send with them. Any host
/// (the Functions app, a local web host) answers GET /api/models/{id}/report[/{file}] with these.
/// </summary>
public sealed record ModelReportFile(string Name, BinaryData Content)
{
    /// <summary>The page has no scripts and loads nothing: pictures are data: URIs, styles inline. Saying so keeps
    /// a page served from the API's origin from ever running anything, whatever a data set's file names hold.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

    public string ContentType => ContentTypeOf(Name);

    /// <summary>Content-Type, X-Content-Type-Options and, for the page, Content-Security-Policy.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers =>
    [
        new("Content-Type", ContentType),
        new("X-Content-Type-Options", "nosniff"),
        .. Name == RunReport.PageFile ? [new KeyValuePair<string, string>("Content-Security-Policy", ContentSecurityPolicy)] : Array.Empty<KeyValuePair<string, string>>(),
    ];

    /// <summary>The content type of one of <see cref="StorageNames.ReportFiles"/>.</summary>
    public static string ContentTypeOf(string file) => file switch
    {
        RunReport.PageFile => "text/html; charset=utf-8",
        RunReport.ConfusionFile => "image/png",
        RunReport.PreviewFile or RunReport.MisclassifiedFile => "image/jpeg",
        _ => throw new ArgumentException($"'{file}' is not a report file", nameof(file)),
    };
}
