using System.Formats.Tar;
using System.IO.Compression;

namespace Flowers.Tests.Acquire;

/// <summary>Builds .tgz and .zip archives with the BCL writers, including hostile entries that a careless extractor would obey.</summary>
public static class TestArchives
{
    /// <summary>A gzip'd tar of <paramref name="folder"/>, with the folder's own name as the top entry.</summary>
    public static string TgzOf(string folder, string archivePath)
    {
        using var file = File.Create(archivePath);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        TarFile.CreateFromDirectory(folder, gzip, includeBaseDirectory: true);
        return archivePath;
    }

    public static string ZipOf(string folder, string archivePath)
    {
        ZipFile.CreateFromDirectory(folder, archivePath, CompressionLevel.Fastest, includeBaseDirectory: true);
        return archivePath;
    }

    /// <summary>A .tgz with exactly the given entries (regular files unless a link type is given).</summary>
    public static string Tgz(string archivePath, params TarItem[] items)
    {
        using var file = File.Create(archivePath);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var item in items)
        {
            var entry = new PaxTarEntry(item.Type, item.Name);
            if (item.LinkName is not null)
                entry.LinkName = item.LinkName;
            if (item.Data is not null)
                entry.DataStream = new MemoryStream(item.Data);
            tar.WriteEntry(entry);
        }
        return archivePath;
    }

    /// <summary>A .zip with exactly the given entries; a non-null unix mode is stored in the external attributes.</summary>
    public static string Zip(string archivePath, params (string Name, byte[] Data, int? UnixMode)[] items)
    {
        using var zip = ZipFile.Open(archivePath, ZipArchiveMode.Create);
        foreach (var (name, data, mode) in items)
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
            if (mode is int m)
                entry.ExternalAttributes = m << 16;
            using var stream = entry.Open();
            stream.Write(data);
        }
        return archivePath;
    }
}

public sealed record TarItem(string Name, byte[]? Data = null, TarEntryType Type = TarEntryType.RegularFile, string? LinkName = null);
