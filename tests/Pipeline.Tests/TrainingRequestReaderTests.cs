namespace Flowers.Pipeline.Tests;

public class TrainingRequestReaderTests
{
    private static readonly TrainingSettings Strict = new();
    private static readonly TrainingSettings AllowPrivate = new() { AllowPrivateSources = true };

    private static async Task<TrainingRequestException> Rejected(string? body, TrainingSettings? settings = null) =>
        await Assert.ThrowsAsync<TrainingRequestException>(() => TrainingRequestReader.ReadAsync(body, settings ?? Strict));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{}")]
    public async Task An_empty_body_means_the_default_data_set_and_options(string? body)
    {
        // Private sources allowed only so that the test needs no DNS; the default URL is a public host.
        var request = await TrainingRequestReader.ReadAsync(body, AllowPrivate);
        Assert.Equal("flower_photos", request.Dataset);
        Assert.Equal(Acquire.AcquireOptions.DefaultUrl, request.SourceUrl);
        Assert.Equal(0.2, request.TestFraction);
        Assert.Equal(2018, request.Seed);
        Assert.Equal("lbfgs", request.Trainer.Trainer);
        Assert.Equal(0, request.MinAccuracy);
        Assert.Equal(TrainingRequest.DefaultShardSize, request.ShardSize);
        Assert.Equal(0, request.InputSize); // chosen from the photos
    }

    [Fact]
    public async Task Every_field_is_read()
    {
        var request = await TrainingRequestReader.ReadAsync("""
            { "blobPrefix": "tulips-2026", "testFraction": 0.25, "seed": 7, "trainer": "sdca",
              "trainerOptions": { "l2": 3.5, "maxIterations": 50 }, "minAccuracy": 0.8, "shardSize": 32, "inputSize": 224 }
            """, Strict);
        Assert.Equal(224, request.InputSize);
        Assert.Equal("tulips-2026", request.Dataset);
        Assert.Null(request.SourceUrl);
        Assert.Equal(0.25, request.TestFraction);
        Assert.Equal(7, request.Seed);
        Assert.Equal("sdca", request.Trainer.Trainer);
        Assert.Equal(3.5f, request.Trainer.L2);
        Assert.Equal(50, request.Trainer.MaxIterations);
        Assert.Equal(0.8, request.MinAccuracy);
        Assert.Equal(32, request.ShardSize);
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("[1,2]", "body")]
    [InlineData("""{ "sauce": "http://example.com/x.tgz" }""", "sauce")]
    [InlineData("""{ "testFraction": 1.5 }""", "testFraction")]
    [InlineData("""{ "testFraction": 0 }""", "testFraction")]
    [InlineData("""{ "testFraction": "0.2" }""", "testFraction")]
    [InlineData("""{ "seed": -1 }""", "seed")]
    [InlineData("""{ "seed": 1.5 }""", "seed")]
    [InlineData("""{ "minAccuracy": 2 }""", "minAccuracy")]
    [InlineData("""{ "shardSize": 0 }""", "shardSize")]
    [InlineData("""{ "inputSize": 16 }""", "inputSize")]
    [InlineData("""{ "inputSize": 224.5 }""", "inputSize")]
    [InlineData("""{ "shardSize": 100000 }""", "shardSize")]
    [InlineData("""{ "trainer": "xgboost" }""", "trainer")]
    [InlineData("""{ "trainerOptions": 3 }""", "trainerOptions")]
    [InlineData("""{ "trainerOptions": { "l2": "lots" } }""", "trainerOptions")]
    [InlineData("""{ "trainerOptions": { "learningSpeed": 1 } }""", "trainerOptions")]
    [InlineData("""{ "trainerOptions": { "l2": -1 } }""", "trainerOptions")]
    [InlineData("""{ "trainerOptions": { "maxIterations": 0 } }""", "trainerOptions")]
    [InlineData("""{ "blobPrefix": "My Photos" }""", "blobPrefix")]
    [InlineData("""{ "blobPrefix": "../models" }""", "blobPrefix")]
    [InlineData("""{ "blobPrefix": "x", "source": "http://example.com/x.tgz" }""", "source")]
    [InlineData("""{ "source": "http://example.com/x.tgz", "dataset": "UPPER" }""", "dataset")]
    [InlineData("""{ "source": "ftp://example.com/x.tgz" }""", "source")]
    [InlineData("""{ "source": "file:///etc/passwd" }""", "source")]
    [InlineData("""{ "source": "not a url" }""", "source")]
    [InlineData("""{ "source": 42 }""", "source")]
    public async Task A_bad_body_is_refused_naming_the_field(string body, string field)
    {
        var error = await Rejected(body, AllowPrivate);
        Assert.StartsWith(field, error.Field);
        Assert.StartsWith(field, error.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/photos.tgz", "loopback")]
    [InlineData("http://localhost/photos.tgz", "loopback")]
    [InlineData("http://[::1]/photos.tgz", "loopback")]
    [InlineData("http://10.0.0.5/photos.tgz", "private")]
    [InlineData("http://192.168.1.20/photos.tgz", "private")]
    [InlineData("http://172.20.0.1/photos.tgz", "private")]
    [InlineData("http://169.254.169.254/metadata/instance", "link-local")]
    [InlineData("http://[fe80::1]/photos.tgz", "link-local")]
    [InlineData("http://[fd00::1]/photos.tgz", "private")]
    [InlineData("http://[::ffff:127.0.0.1]/photos.tgz", "loopback")]
    [InlineData("http://0.0.0.0/photos.tgz", "unspecified")]
    public async Task A_url_into_the_apps_own_network_is_refused_unless_allowed(string url, string kind)
    {
        var error = await Rejected($$"""{ "source": "{{url}}" }""");
        Assert.Equal("source", error.Field);
        Assert.Contains(kind, error.Message);
        Assert.Contains("Training__AllowPrivateSources", error.Message);

        var allowed = await TrainingRequestReader.ReadAsync($$"""{ "source": "{{url}}" }""", AllowPrivate);
        Assert.Equal(url, allowed.SourceUrl);
    }

    [Theory]
    [InlineData("https://example.com/data/flower_photos.tgz", "flower_photos")]
    [InlineData("https://example.com/Roses.Tar.Gz", "roses")]
    [InlineData("https://example.com/a b.zip", "a-b")]
    [InlineData("https://photos.example.com/", "photos-example-com")]
    public void The_data_set_is_named_after_the_archive(string url, string name) =>
        Assert.Equal(name, TrainingRequestReader.DatasetNameFromUrl(new Uri(url)));

    [Fact]
    public void Public_addresses_are_public()
    {
        foreach (var address in new[] { "8.8.8.8", "140.82.112.3", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1" })
            Assert.Null(SourceAddressGuard.NonPublicKind(System.Net.IPAddress.Parse(address)));
    }
}

public class LocalSourceTests
{
    [Fact]
    public async Task A_path_on_the_host_is_refused_unless_the_host_allows_local_sources()
    {
        var folder = Directory.CreateTempSubdirectory("flowers-local-source-").FullName;
        var body = $$"""{ "source": {{System.Text.Json.JsonSerializer.Serialize(folder)}} }""";
        var refused = await Assert.ThrowsAsync<TrainingRequestException>(() => TrainingRequestReader.ReadAsync(body, new TrainingSettings()));
        Assert.Equal("source", refused.Field);

        var request = await TrainingRequestReader.ReadAsync(body, new TrainingSettings { AllowLocalSources = true });
        Assert.Equal(folder, request.SourceUrl);
        Assert.StartsWith("flowers-local-source-", request.Dataset);

        var missing = await Assert.ThrowsAsync<TrainingRequestException>(() => TrainingRequestReader.ReadAsync(
            """{ "source": "/no/such/folder" }""", new TrainingSettings { AllowLocalSources = true }));
        Assert.Contains("does not exist", missing.Message);
    }
}
