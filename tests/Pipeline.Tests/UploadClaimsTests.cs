using Flowers.Labelling;
using Flowers.Storage;
using Flowers.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Flowers.Pipeline.Tests;

/// <summary>Claims on real Azurite: one holder at a time, a stale claim (its host killed) taken over, and what labelling costs in requests.</summary>
public class UploadClaimsTests(PublishedModelStorage storage) : IClassFixture<PublishedModelStorage>
{
    private readonly FlowersStorage _containers = storage.Services.GetRequiredService<FlowersStorage>();

    [Fact]
    public async Task A_held_claim_is_refused_to_everyone_else_until_it_is_released()
    {
        await _containers.EnsureContainersAsync();
        var claims = new UploadClaims(_containers);
        var first = await claims.TryClaimAsync("claims-test/held.jpg");
        Assert.NotNull(first);
        Assert.Null(await new UploadClaims(_containers).TryClaimAsync("claims-test/held.jpg")); // another host
        await first!.DisposeAsync();
        await using var second = await claims.TryClaimAsync("claims-test/held.jpg");
        Assert.NotNull(second);
    }

    [Fact]
    public async Task A_claim_left_longer_than_its_hold_time_is_taken_over_and_its_late_release_leaves_the_new_claim()
    {
        await _containers.EnsureContainersAsync();
        var claims = new UploadClaims(_containers, holdTime: TimeSpan.FromSeconds(2));
        var killed = await claims.TryClaimAsync("claims-test/stale.jpg"); // its host is killed: never released in time
        Assert.NotNull(killed);
        Assert.Null(await claims.TryClaimAsync("claims-test/stale.jpg"));
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // Last-Modified has whole seconds

        var taken = await claims.TryClaimAsync("claims-test/stale.jpg");
        Assert.NotNull(taken);
        await killed!.DisposeAsync(); // the first holder comes back late
        Assert.Null(await claims.TryClaimAsync("claims-test/stale.jpg")); // the taker still holds it
        await taken!.DisposeAsync();
        Assert.False((await _containers.Claims.GetBlobClient("claims-test/stale.jpg").ExistsAsync()).Value);
    }

    [Fact]
    public async Task Labelling_a_batch_costs_six_storage_requests_an_upload()
    {
        await _containers.EnsureContainersAsync();
        var names = Enumerable.Range(0, 6).Select(i => $"claims-cost/{i}.jpg").ToList();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
            await _containers.Uploads.GetBlobClient(name).UploadAsync(new BinaryData(SyntheticPhotos.Jpeg(i % 2 == 0 ? "circle" : "stripes", 4400 + i)));
        var labeller = storage.Services.GetRequiredService<UploadLabeller>();
        await labeller.LabelBatchAsync(names.Take(1).ToList()); // the model is loaded before the count
        int Requests() => new[] { "GET", "HEAD", "PUT", "DELETE" }.Sum(m =>
            storage.Traffic.Count(m, $"/{StorageNames.Uploads}/claims-cost/") + storage.Traffic.Count(m, $"/{StorageNames.Labels}/claims-cost/")
            + storage.Traffic.Count(m, $"/{StorageNames.Claims}/claims-cost/"));
        var before = Requests();

        var outcomes = await labeller.LabelBatchAsync(names.Skip(1).ToList());

        Assert.All(outcomes, o => Assert.NotNull(o.Result?.Label));
        // claim, download (version and bytes), mark, result, re-check, release
        Assert.Equal(6 * outcomes.Count, Requests() - before);
    }
}
