using Flowers.Evaluate;
using Flowers.Report;
using SkiaSharp;

namespace Flowers.Tests.Report;

public class ReportPictureTests
{
    private static readonly string[] TwoClasses = ["rose", "tulip"];

    [Fact]
    public void Confusion_cells_are_darker_and_more_saturated_the_larger_their_share()
    {
        var chart = new ConfusionMatrixChart(TwoClasses, [[0.9, 0.1], [0.25, 0.75]], [[9, 1], [1, 3]]);
        using var bitmap = Pixels.Decode(chart.ToPng());

        // Sample inside the cell but away from the centred annotation text.
        SKColor Fill(int row, int col) { var cell = chart.CellBounds(row, col); return bitmap.GetPixel(cell.Left + 4, cell.Top + 4); }
        SKColor high = Fill(0, 0), low = Fill(0, 1);
        Assert.True(Pixels.Luminance(high) < Pixels.Luminance(low) - 100, $"0.9 cell {high} should be much darker than 0.1 cell {low}");
        Assert.True(Pixels.Saturation(high) > Pixels.Saturation(low) + 30, $"0.9 cell {high} should be more saturated than 0.1 cell {low}");
        Assert.True(Pixels.Luminance(Fill(1, 1)) < Pixels.Luminance(Fill(1, 0)));
        Assert.Equal(ConfusionMatrixChart.ColorFor(0.9), high);
    }

    [Fact]
    public void Confusion_chart_draws_class_names_and_readable_annotations()
    {
        var chart = new ConfusionMatrixChart(TwoClasses, [[0.9, 0.1], [0.25, 0.75]], [[9, 1], [1, 3]]);
        using var bitmap = Pixels.Decode(chart.ToPng());
        Assert.Equal(chart.Size, new SKSizeI(bitmap.Width, bitmap.Height));

        for (int row = 0; row < 2; row++)
            Assert.True(Pixels.Dark(bitmap, chart.RowLabelBounds(row)) > 20, $"no text drawn for row label {row}");

        // The annotation on the dark cell is light text, on the light cell dark text: count contrasting pixels.
        var dark = chart.CellBounds(0, 0);
        var light = chart.CellBounds(0, 1);
        Assert.True(Pixels.Count(bitmap, dark, c => Pixels.Luminance(c) > 200) > 20, "no light annotation on the 0.9 cell");
        Assert.True(Pixels.Dark(bitmap, light) > 20, "no dark annotation on the 0.1 cell");
        Assert.Equal(SKColors.White, ConfusionMatrixChart.TextColorOn(ConfusionMatrixChart.ColorFor(0.9)));
        Assert.NotEqual(SKColors.White, ConfusionMatrixChart.TextColorOn(ConfusionMatrixChart.ColorFor(0.1)));
    }

    [Fact]
    public void Confusion_colour_scale_darkens_steadily_from_0_to_1()
    {
        var luminance = Enumerable.Range(0, 11).Select(i => Pixels.Luminance(ConfusionMatrixChart.ColorFor(i / 10.0))).ToList();
        Assert.All(luminance.Zip(luminance.Skip(1)), pair => Assert.True(pair.Second < pair.First));
        Assert.Equal(ConfusionMatrixChart.ColorFor(0), ConfusionMatrixChart.ColorFor(double.NaN));
    }

    [Fact]
    public void Confusion_chart_rejects_a_matrix_that_does_not_match_the_classes()
    {
        var e = Assert.Throws<ArgumentException>(() => new ConfusionMatrixChart(TwoClasses, [[1.0]]));
        Assert.Contains("2x2", e.Message);
    }

    [Fact]
    public void Preview_shows_each_class_row_with_its_photos_and_labels()
    {
        var photos = ColourCentroidRun.SyntheticPhotos(perClass: 3).Where(p => p.Image != "rose/broken.jpg").ToList();
        var samples = photos.Select(p => new SamplePhoto(p.Class, p.Image, p.Bytes)).ToList();
        var grid = PhotoGrid.Preview(samples, ["tulip", "rose", "daisy", "dandelion", "sunflower"]);
        using var bitmap = Pixels.Decode(grid.ToJpeg());
        Assert.Equal(grid.Size, new SKSizeI(bitmap.Width, bitmap.Height));

        for (int row = 0; row < 5; row++)
        {
            Assert.True(Pixels.Dark(bitmap, grid.HeaderBounds(row)) > 20, $"no class name drawn in row {row}");
            for (int col = 0; col < 3; col++)
            {
                var tile = grid.TileBounds(row, col);
                Assert.False(Pixels.Near(PhotoGrid.PlaceholderColor, bitmap.GetPixel(tile.Left + 2, tile.Top + 2)), $"tile {row},{col} is a placeholder");
                Assert.True(Pixels.Dark(bitmap, tile, below: 200) > tile.Width * tile.Height / 4, $"tile {row},{col} holds no photo");
                Assert.True(Pixels.Dark(bitmap, grid.CaptionBounds(row, col), below: 180) > 10, $"no caption under tile {row},{col}");
            }
        }
        // Rows follow the class order given: the first row is tulip, whose blossoms are red-pink, not daisy white.
        Assert.True(Pixels.Count(bitmap, grid.TileBounds(0, 0), c => c.Red > 150 && c.Green < 140) > 100);
    }

    [Fact]
    public void A_photo_that_does_not_decode_or_cannot_be_read_gets_a_placeholder_tile()
    {
        var wrong = new List<Misclassification>
        {
            new("rose/garbage.jpg", "rose", "tulip", 0.9),
            new("rose/missing.jpg", "rose", "tulip", 0.8),
            new("rose/locked.jpg", "rose", "tulip", 0.7),
            new("rose/empty.jpg", "rose", "tulip", 0.6),
        };
        byte[]? Read(string image) => image switch
        {
            "rose/garbage.jpg" => "not a photo at all"u8.ToArray(),
            "rose/locked.jpg" => throw new IOException("permission denied"),
            "rose/empty.jpg" => [],
            _ => null,
        };
        var grid = PhotoGrid.Misclassified(wrong, Read);
        using var bitmap = Pixels.Decode(grid.ToJpeg());
        for (int col = 0; col < 4; col++)
        {
            var tile = grid.TileBounds(0, col);
            Assert.True(Pixels.Near(PhotoGrid.PlaceholderColor, bitmap.GetPixel(tile.Left + 12, tile.Top + 4)), $"tile {col} is no placeholder");
            Assert.True(Pixels.Dark(bitmap, tile, below: 160) > 10, "placeholder says why");
        }
    }

    [Fact]
    public void Misclassified_grid_pictures_only_the_most_confident_mistakes_with_their_labels()
    {
        var photos = ColourCentroidRun.SyntheticPhotos(perClass: 6);
        var wrong = Enumerable.Range(0, 30)
            .Select(i => new Misclassification(photos[i].Image, photos[i].Class, "tulip", (i * 7 % 30) / 30.0))
            .ToList();
        var read = new List<string>();
        var grid = PhotoGrid.Misclassified(wrong, image => { read.Add(image); return photos.First(p => p.Image == image).Bytes; });
        using var bitmap = Pixels.Decode(grid.ToJpeg());

        var expected = wrong.OrderByDescending(w => w.Confidence).Take(PhotoGrid.MaxMisclassifiedTiles).Select(w => w.Image);
        Assert.Equal(expected, read);
        Assert.True(grid.TileBounds(3, 5).Right <= bitmap.Width && grid.CaptionBounds(3, 5).Bottom <= bitmap.Height);
        Assert.True(grid.TileBounds(4, 0).Bottom > bitmap.Height, "room for more than 24 tiles");
        // Captions: predicted label in red, true label in green.
        var caption = grid.CaptionBounds(0, 0);
        Assert.True(Pixels.Count(bitmap, caption, c => c.Red > 140 && c.Green < 90 && c.Blue < 90) > 10, "no red 'predicted' line");
        Assert.True(Pixels.Count(bitmap, caption, c => c.Green > 90 && c.Red < 80 && c.Blue < 100) > 10, "no green 'true' line");
    }

    [Fact]
    public void Charts_draw_text_with_the_embedded_font_not_a_system_one()
    {
        // A fresh machine may have no fonts at all: Latin class names must never depend on them.
        Assert.Equal("DejaVu Sans", ReportFont.Typeface.FamilyName);
        using var font = ReportFont.For("Löwenzahn – Kirschblüte", 13);
        Assert.Equal("DejaVu Sans", font.Typeface.FamilyName);
        var chart = new ConfusionMatrixChart(["Kirschblüte", "Löwenzahn"], [[1.0, 0.0], [0.5, 0.5]]);
        using var bitmap = Pixels.Decode(chart.ToPng());
        Assert.True(Pixels.Dark(bitmap, chart.RowLabelBounds(1)) > 20);
    }
}
