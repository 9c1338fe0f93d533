using System.Text;
using Flowers.Report;
using Flowers.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>What GET /api/models/{id}/report[/{file}] answers, from Core: any host serves these.</summary>
public class ModelReportTests(EmptyStorage storage) : IClassFixture<EmptyStorage>
{
    private ModelRegistry Registry => storage.Services.GetRequiredService<ModelRegistry>();
    private FlowersStorage Containers => storage.Services.GetRequiredService<FlowersStorage>();

    [Fact]
    public async Task Each_report_file_is_served_with_its_content_type_and_no_other_blob_is()
    {
        const string id = "shapes-20261129-120000-abc123";
        await Registry.SaveReportAsync(id, RunReport.Files.ToDictionary(f => f, f => Encoding.UTF8.GetBytes($"bytes of {f}")));
        // Other blobs of the model folder and of the container, which a report URL must never reach.
        await Containers.Models.GetBlobClient(StorageNames.ModelBlob(id, StorageNames.ModelPackageFile)).UploadAsync(new BinaryData("zip"));
        await Containers.Models.GetBlobClient(StorageNames.ModelBlob(id, "notes.txt")).UploadAsync(new BinaryData("notes"));

        var page = (await Registry.ReadReportFileAsync(id, file: null))!;
        Assert.Equal(RunReport.PageFile, page.Name);
        Assert.Equal("bytes of report.html", page.Content.ToString());
        Assert.Equal("text/html; charset=utf-8", page.ContentType);
        Assert.Contains(page.Headers, h => h.Key == "Content-Security-Policy" && h.Value.Contains("default-src 'none'"));
        Assert.Contains(page.Headers, h => h.Key == "X-Content-Type-Options" && h.Value == "nosniff");
        foreach (var picture in new[] { RunReport.PreviewFile, RunReport.ConfusionFile, RunReport.MisclassifiedFile })
        {
            var file = (await Registry.ReadReportFileAsync(id, picture))!;
            Assert.Equal($"bytes of {picture}", file.Content.ToString());
            var type = picture == RunReport.ConfusionFile ? "image/png" : "image/jpeg";
            Assert.Equal(type, file.ContentType);
            Assert.Contains(file.Headers, h => h.Key == "Content-Type" && h.Value == type);
        }

        foreach (var other in new[] { StorageNames.ModelPackageFile, "notes.txt", "../current", "", "REPORT.HTML", "report.html/" })
            Assert.Null(await Registry.ReadReportFileAsync(id, other));
        Assert.Null(await Registry.ReadReportFileAsync("Shapes_1", null));          // not a model id
        Assert.Null(await Registry.ReadReportFileAsync("../models", null));
        Assert.Null(await Registry.ReadReportFileAsync("no-such-model", null));      // no report
        Assert.Null(await Registry.ReadReportFileAsync("no-such-model", RunReport.ConfusionFile));
    }

    [Fact]
    public async Task Saving_refuses_a_file_that_is_not_part_of_a_report() =>
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Registry.SaveReportAsync("shapes-1", new Dictionary<string, byte[]> { [StorageNames.ModelPackageFile] = [1] }));
}
