namespace Flowers.Acquire;

/// <summary>An archive entry that would escape the extraction folder, is a link, or is too big: nothing is extracted.</summary>
public sealed class UnsafeArchiveException(string archive, string entry, string reason)
    : DatasetException($"Refused archive '{Path.GetFileName(archive)}': entry '{entry}' {reason}. Nothing was extracted.")
{
    public string Archive { get; } = archive;
    public string Entry { get; } = entry;
    public string Reason { get; } = reason;
}
