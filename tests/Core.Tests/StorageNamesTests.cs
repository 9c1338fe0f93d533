using Flowers.Report;
using Flowers.Storage;

namespace Flowers.Tests;

public class StorageNamesTests
{
    [Fact]
    public void Container_names_are_valid_blob_container_names()
    {
        foreach (var name in StorageNames.AllContainers)
            Assert.Matches("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$", name);
        Assert.Equal(StorageNames.AllContainers.Count, StorageNames.AllContainers.Distinct().Count());
    }

    [Fact]
    public void Report_blob_names_admit_only_the_report_files()
    {
        Assert.Equal("m-1/report.html", StorageNames.ModelReportBlob("m-1", RunReport.PageFile));
        Assert.Equal(4, StorageNames.ReportFiles.Count);
        Assert.Empty(StorageNames.ReportFiles.Intersect(StorageNames.ModelFiles));
        foreach (var other in new[] { StorageNames.ModelPackageFile, "../current", "", "REPORT.HTML" })
            Assert.Throws<ArgumentException>(() => StorageNames.ModelReportBlob("m-1", other));
        Assert.Equal("image/png", ModelReportFile.ContentTypeOf(RunReport.ConfusionFile));
        Assert.Equal("image/jpeg", ModelReportFile.ContentTypeOf(RunReport.PreviewFile));
        Assert.Equal("image/jpeg", ModelReportFile.ContentTypeOf(RunReport.MisclassifiedFile));
        Assert.Equal("text/html; charset=utf-8", ModelReportFile.ContentTypeOf(RunReport.PageFile));
    }
}
