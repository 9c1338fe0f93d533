using Flowers.LocalHost;

namespace Flowers.Testing;

/// <summary>
/// A test's own Azurite: the product's launcher (<see cref="Azurite.StartOwnAsync"/>, free ports, in memory or on disk)
/// for the repository above the test's output folder, so tests are isolated from each other and from anything else on
/// the machine. Linked into test projects from tests/Testing.Support.
/// </summary>
public static class AzuriteInstance
{
    public static Task<Azurite> StartNewAsync(bool onDisk = false) => Azurite.StartOwnAsync(TestRepository.Root, onDisk);
}
