namespace Flowers.Acquire;

/// <summary>
/// Any reason a data set cannot be used; the message names the problem (file, entry or class) and what to do.
/// A command line shows the message alone, without a stack trace.
/// </summary>
public abstract class DatasetException(string message, Exception? inner = null) : Exception(message, inner);
