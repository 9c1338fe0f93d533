namespace Flowers.Acquire;

/// <summary>The data set was read but cannot be trained on: no class folders, one class only, a class with too few photos;
/// or the archive is damaged or of a format not accepted. The same input fails the same way again, so it is not retried.</summary>
public sealed class UnusableDatasetException(string message, Exception? inner = null) : DatasetException(message, inner);
