namespace Flowers.Acquire;

/// <summary>The data set was read but cannot be trained on: no class folders, one class only, a class with too few photos.</summary>
public sealed class UnusableDatasetException(string message) : DatasetException(message);
