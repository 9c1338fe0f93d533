using Flowers.Train;

namespace Flowers.Pipeline.Tests;

/// <summary>Issue 16: a data-set name taken from the source is checked at once, and the work a request asks for has ceilings.</summary>
public class RequestNameAndBoundsTests
{
    private static readonly TrainingSettings LocalAndPrivate = new() { AllowLocalSources = true, AllowPrivateSources = true, LocalSourceRoots = "/" }; // "/" itself is the case here

    private static async Task<TrainingRequestException> Rejected(string body) =>
        await Assert.ThrowsAsync<TrainingRequestException>(() => TrainingRequestReader.ReadAsync(body, LocalAndPrivate));

    [Theory]
    [InlineData("""{ "source": "/" }""")]                      // was a 500 (UriFormatException from the empty name)
    [InlineData("""{ "source": "http://[::1]:8000/" }""")]     // was '[::1]', refused only when the model was saved
    public async Task A_source_that_gives_no_data_set_name_is_a_400_naming_source(string body)
    {
        var error = await Rejected(body);
        Assert.Equal("source", error.Field);
        Assert.Contains("give one in \"dataset\"", error.Message);
    }

    [Fact]
    public async Task The_same_source_with_a_dataset_name_is_accepted()
    {
        var request = await TrainingRequestReader.ReadAsync("""{ "source": "http://[::1]:8000/", "dataset": "local-photos" }""", LocalAndPrivate);
        Assert.Equal("local-photos", request.Dataset);
        var fromRoot = await TrainingRequestReader.ReadAsync("""{ "source": "/", "dataset": "root" }""", LocalAndPrivate);
        Assert.Equal("root", fromRoot.Dataset);
    }

    [Fact]
    public async Task A_local_folder_gives_its_name()
    {
        var folder = Directory.CreateTempSubdirectory("Tulip Photos");
        try
        {
            var request = await TrainingRequestReader.ReadAsync($$"""{ "source": "{{folder.FullName}}/" }""", LocalAndPrivate);
            Assert.StartsWith("tulip-photos", request.Dataset);
        }
        finally { folder.Delete(); }
    }

    [Theory]
    [InlineData("maxIterations", TrainerOptions.MaxMaxIterations)]
    [InlineData("numberOfLeaves", TrainerOptions.MaxNumberOfLeaves)]
    [InlineData("numberOfIterations", TrainerOptions.MaxNumberOfIterations)]
    public async Task Trainer_work_past_its_ceiling_is_a_400_naming_the_option(string option, int ceiling)
    {
        await TrainingRequestReader.ReadAsync($$"""{ "trainerOptions": { "{{option}}": {{ceiling}} } }""", LocalAndPrivate);
        var error = await Rejected($$"""{ "trainerOptions": { "{{option}}": 2147483647 } }""");
        Assert.Equal($"trainerOptions.{option}", error.Field);
        Assert.Contains($"{ceiling}", error.Message);
        Assert.DoesNotContain("Parameter", error.Message);
    }

    [Theory]
    [InlineData(1, 1 << 18)]
    [InlineData(1, int.MaxValue)]
    [InlineData(8, 1_000_000)]
    public void A_run_cuts_at_most_MaxShards_shards(int shardSize, int photos) =>
        Assert.Equal(FeatureShardPlan.MaxShards, FeatureShardPlan.ShardCountFor(photos, shardSize));
}
