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
}
