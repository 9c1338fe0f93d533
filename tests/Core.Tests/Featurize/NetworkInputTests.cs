using Flowers.Featurize;

namespace Flowers.Tests.Featurize;

public class NetworkInputTests
{
    [Fact]
    public void Edited_resnet18_pools_all_four_stages_or_only_the_last()
    {
        Assert.Equal([64, 128, 256, 512], ResNet18Model.Load(multiLevel: true).StageChannels);
        Assert.Equal(960, ResNet18Model.Load(multiLevel: true).Dimension);
        Assert.Equal([512], ResNet18Model.Load(multiLevel: false).StageChannels);
        Assert.Same(ResNet18Model.Load(multiLevel: true), ResNet18Model.Load(multiLevel: true)); // edited once a process
    }

    [Fact]
    public void Missing_model_says_where_it_looked_and_which_package_brings_it()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ResNet18Model.Load("/nonexistent/models"));
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18", e.Message);
        Assert.Contains("/nonexistent/models", e.Message);
    }

    [Fact]
    public void Mean_image_is_the_imagenet_bgr_mean_at_every_size()
    {
        foreach (var size in new[] { 224, 160, 128, 288 })
        {
            var (b, g, r) = CaffePreprocessing.Load(size).ChannelMeans();
            Assert.Equal(103.06, b, 0.3);
            Assert.Equal(115.90, g, 0.3);
            Assert.Equal(123.15, r, 0.3);
        }
    }

    [Fact]
    public void Input_is_planar_bgr_0_to_255_minus_the_mean()
    {
        const int size = 32;
        var rgba = new byte[size * size * 4];
        for (var i = 0; i < size * size; i++) (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (200, 100, 50, 255);
        rgba[0] = 0; // top-left pixel: no red
        var pixels = new PhotoPixels(size, rgba, size, size, "test");
        var perPixel = CaffePreprocessing.Load(size, perPixelMean: true);
        var channelMean = CaffePreprocessing.Load(size, perPixelMean: false);
        var (mb, mg, mr) = channelMean.ChannelMeans();

        var input = new float[3 * size * size];
        channelMean.Write(pixels, mirrored: false, input);
        var plane = size * size;
        Assert.Equal(50 - mb, input[5], 0.001);             // B plane first
        Assert.Equal(100 - mg, input[plane + 5], 0.001);    // then G
        Assert.Equal(200 - mr, input[2 * plane + 5], 0.001); // then R
        Assert.Equal(0 - mr, input[2 * plane], 0.001);

        channelMean.Write(pixels, mirrored: true, input);
        Assert.Equal(0 - mr, input[2 * plane + size - 1], 0.001); // the red-less pixel moved to the right edge
        Assert.Equal(200 - mr, input[2 * plane], 0.001);

        perPixel.Write(pixels, mirrored: false, input);
        Assert.Equal(200 - mr, input.AsSpan(2 * plane, plane).ToArray().Skip(1).Average(), 1.0);
    }
}
