namespace Flowers.Acquire;

/// <summary>
/// The data set cannot be had: offline, the server refused, the path does not exist, the file is no
/// archive. The message says what happened and what to do instead.
/// </summary>
public sealed class DatasetUnavailableException : DatasetException
{
    public const string Hint = "Pass --dataset <folder|archive|url> to use a data set you have.";

    public DatasetUnavailableException(string dataset, string problem, Exception? inner = null)
        : base($"{problem} {Hint}", inner) => Dataset = dataset;

    /// <summary>The folder, archive or URL that was asked for.</summary>
    public string Dataset { get; }
}
