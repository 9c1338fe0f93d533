using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Flowers.Featurize;
using Flowers.Package;
using Flowers.Tests.Train;
using Flowers.Train;

namespace Flowers.Tests.Package;

public class ModelPackageTests
{
    private static readonly DateTimeOffset CreatedAt = new(2026, 11, 3, 14, 5, 9, TimeSpan.Zero);
    private static readonly FeaturizerOptions Featurizer = new() { InputSize = 160 };

    private static ModelPackage Make(string trainer = TrainerOptions.Lbfgs)
    {
        var options = new TrainerOptions { Trainer = trainer, NumberOfIterations = 20, MaxIterations = 50, L2 = 1 };
        var classifier = ClassifierTrainer.Train(SyntheticFeatures.Classes, new SyntheticFeatures(seed: 1).Photos(15), options);
        return ModelPackage.Create(classifier, Featurizer, Featurizer.Id, options,
            new MetricsSummary(0.9, 0.88, 0.31, 45, 12), "ab12cd", CreatedAt);
    }

    private static string Json(ModelManifest m) => JsonSerializer.Serialize(m);

    [Theory]
    [InlineData(TrainerOptions.Lbfgs)]
    [InlineData(TrainerOptions.LightGbm)]
    public void Round_trip_keeps_manifest_and_classifier(string trainer)
    {
        var package = Make(trainer);

        var read = ModelPackage.ReadFrom(new MemoryStream(package.ToBytes()));

        Assert.Equal(Json(package.Manifest), Json(read.Manifest));
        Assert.Equal(Featurizer.InputSize, read.Manifest.Featurizer.InputSize);
        Assert.Equal(Featurizer.Id, read.Manifest.Featurizer.Id);
        Assert.Equal(trainer, read.Manifest.Trainer);
        Assert.Equal(SyntheticFeatures.Classes, read.Manifest.Classes);
        foreach (var photo in new SyntheticFeatures(seed: 2).Photos(3))
            Assert.Equal(package.Classifier.Predict(photo.Views), read.Classifier.Predict(photo.Views));
    }

    [Fact]
    public void Model_id_is_creation_time_and_a_short_hash_and_the_bytes_are_reproducible()
    {
        var package = Make();

        Assert.Matches(@"^20261103-140509-[0-9a-f]{8}$", package.ModelId);
        Assert.Equal(package.ToBytes(), Make().ToBytes());
        var other = ModelPackage.Create(package.Classifier, Featurizer, Featurizer.Id, package.Manifest.TrainerOptions,
            package.Manifest.Metrics, "another-data-set", CreatedAt);
        Assert.NotEqual(package.ModelId, other.ModelId);
    }

    [Fact]
    public void Save_and_Load_a_file()
    {
        using var folder = new Runs.TempFolder();
        var path = folder["run/" + ModelPackage.FileName];
        Make().Save(path);

        Assert.Equal(Make().ModelId, ModelPackage.Load(path).ModelId);
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Not_a_zip_is_named()
    {
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFrom(new MemoryStream("hello"u8.ToArray())));
        Assert.Contains("not a zip", e.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load("/no/such/model.flowers"));
        Assert.Contains("/no/such/model.flowers", e.Message);
    }

    private static byte[] Rewrite(byte[] package, string entryName, Func<byte[], byte[]?> change)
    {
        var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(package), ZipArchiveMode.Read))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                using var read = new MemoryStream();
                using (var s = entry.Open()) s.CopyTo(read);
                var bytes = entry.FullName == entryName ? change(read.ToArray()) : read.ToArray();
                if (bytes is null) continue;
                using var w = target.CreateEntry(entry.FullName).Open();
                w.Write(bytes);
            }
        return output.ToArray();
    }

    [Fact]
    public void A_newer_format_version_says_to_update()
    {
        var bytes = Rewrite(Make().ToBytes(), "manifest.json",
            m => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(m).Replace("\"formatVersion\": 1", "\"formatVersion\": 7")));

        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFrom(new MemoryStream(bytes)));
        Assert.Contains("format version 7", e.Message);
        Assert.Contains("Update Flowers", e.Message);
    }

    [Fact]
    public void A_package_from_before_the_8_bit_network_keeps_float_features()
    {
        var package = Make();
        Assert.Equal(FeaturePrecision.Int8, ModelPackage.ReadFrom(new MemoryStream(package.ToBytes())).Manifest.Featurizer.Precision);
        // Such packages name no precision: the featurizer they were trained with ran in floats.
        var bytes = Rewrite(package.ToBytes(), "manifest.json",
            m => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(m).Replace("\"precision\": \"Int8\",", "")));
        var old = ModelPackage.ReadFrom(new MemoryStream(bytes)).Manifest;
        Assert.Equal(FeaturePrecision.Float32, old.Featurizer.Precision);
        Assert.Equal("resnet18-ml960-160-flip", old.Featurizer.Id);
    }

    [Fact]
    public void Damaged_parts_are_named()
    {
        var good = Make().ToBytes();

        var noManifest = Rewrite(good, "manifest.json", _ => null);
        Assert.Contains("no manifest.json", Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFrom(new MemoryStream(noManifest))).Message);

        var badJson = Rewrite(good, "manifest.json", m => m[..(m.Length / 2)]);
        Assert.Contains("manifest.json is damaged", Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFrom(new MemoryStream(badJson))).Message);

        var badClassifier = Rewrite(good, "classifier.bin", c => c[..(c.Length - 10)]);
        Assert.Contains("classifier is damaged", Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFrom(new MemoryStream(badClassifier))).Message);

        var otherClasses = Rewrite(good, "manifest.json",
            m => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(m).Replace("\"tulip\"", "\"lily\"")));
        Assert.Contains("inconsistent", Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFrom(new MemoryStream(otherClasses))).Message);
    }
}
