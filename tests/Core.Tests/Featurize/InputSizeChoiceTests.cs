using Flowers.Featurize;
using SkiaSharp;

namespace Flowers.Tests.Featurize;

public class InputSizeChoiceTests
{
    [Theory]
    [InlineData(128, 160)] // flowers128: upsampled a little, not stretched to 288
    [InlineData(96, 128)]
    [InlineData(40, 128)] // never below the smallest
    [InlineData(200, 256)]
    [InlineData(240, 288)] // flower_photos' 320x240: the full-resolution default
    [InlineData(500, 288)] // oxford17
    [InlineData(0, 288)] // no photo could be read
    public void Input_size_is_a_quarter_above_the_photos_short_side_in_steps_of_32_from_128_to_288(int shortSide, int expected) =>
        Assert.Equal(expected, InputSizeChoice.For(shortSide));

    [Fact]
    public void The_median_short_side_of_the_photos_that_are_photos_decides()
    {
        byte[] Photo(int width, int height)
        {
            using var bitmap = new SKBitmap(width, height);
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 80);
            return data.ToArray();
        }
        var photos = new[] { Photo(320, 200), Photo(150, 400), Photo(1000, 700), "not a photo"u8.ToArray(), [] };

        var choice = InputSizeChoice.From(photos);

        Assert.Equal(new InputSizeChoice(MedianShortSide: 200, PhotosLookedAt: 3, Chosen: 256), choice);
        Assert.Equal(choice.Chosen, choice.Apply(new FeaturizerOptions()).InputSize);
        Assert.Contains("200 px", choice.ToString());
    }

    [Fact]
    public void The_sample_is_spread_over_the_photos_and_the_same_every_time()
    {
        var items = Enumerable.Range(0, 1000).ToList();
        var sample = InputSizeChoice.SampleOf(items);

        Assert.Equal(InputSizeChoice.Sample, sample.Count);
        Assert.Equal(sample.Distinct().Count(), sample.Count);
        Assert.Equal(0, sample[0]);
        Assert.True(sample[^1] > 950);
        Assert.Equal(sample, InputSizeChoice.SampleOf(items));
        Assert.Equal(items.Take(10), InputSizeChoice.SampleOf(items.Take(10).ToList()));
    }
}
