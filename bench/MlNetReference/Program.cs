// ML.NET's own ResNet18 featurization of photo files, timed: prints one JSON line on stdout.
//   MlNetReference --files LISTFILE [--repeat K] [--warmup N]
// LISTFILE holds one photo path a line. Each repeat runs the whole pipeline over all photos and reads every
// feature vector; the first Fit (model loading) is reported apart as the cold start, and a first pass over
// N photos (JIT, first-run allocations) is not timed.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

var listFile = Arg("--files") ?? throw new ArgumentException("--files LISTFILE is required");
var repeat = int.Parse(Arg("--repeat") ?? "1");
var warmup = int.Parse(Arg("--warmup") ?? "0");
var paths = File.ReadAllLines(listFile).Where(l => l.Length > 0).ToArray();

var ml = new MLContext(seed: 1);
var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PhotoPath { Path = p }));
var pipeline = ml.Transforms.LoadImages("Image", imageFolder: "", "Path")
    .Append(ml.Transforms.ResizeImages("Image", 224, 224, "Image"))
    .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
    .Append(ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels"));

var cold = Stopwatch.StartNew();
var model = pipeline.Fit(data);
var coldStartSeconds = cold.Elapsed.TotalSeconds;

var featureSum = 0.0;
if (warmup > 0) Featurize(ml.Data.TakeRows(data, warmup));
var rates = new List<double>();
var cpuMilliseconds = new List<double>();
var process = Process.GetCurrentProcess();
for (var r = 0; r < repeat; r++)
{
    process.Refresh();
    var cpu = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    var rows = Featurize(data);
    rates.Add(rows / sw.Elapsed.TotalSeconds);
    process.Refresh();
    cpuMilliseconds.Add((process.TotalProcessorTime - cpu).TotalMilliseconds / rows);
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    count = paths.Length, coldStartSeconds, imagesPerSecond = rates, cpuMillisecondsPerImage = cpuMilliseconds, featureSum,
}));

int Featurize(IDataView photos)
{
    var transformed = model.Transform(photos);
    using var cursor = transformed.GetRowCursor([transformed.Schema["Features"]]);
    var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema["Features"]);
    var features = default(VBuffer<float>);
    var rows = 0;
    while (cursor.MoveNext())
    {
        getter(ref features);
        featureSum += features.GetValues()[0];
        rows++;
    }
    return rows;
}

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

sealed class PhotoPath
{
    public string Path { get; set; } = "";
}
