using System.IO.Compression;
using System.Security.Cryptography;
using Flowers.Storage;
using Flowers.Testing;
using Flowers.Tests.Acquire;

namespace Flowers.Tests;

public class PhotoPackTests
{
    private static (string Hash, byte[] Bytes) Photo(int seed)
    {
        var bytes = SyntheticPhotos.Jpeg(seed);
        return (Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes);
    }

    /// <summary>A write-only, forward-only stream, as a blob's write stream is.</summary>
    private sealed class ForwardOnly(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }

    [Fact]
    public async Task A_pack_written_forward_only_gives_back_the_photos_asked_for_byte_for_byte()
    {
        var photos = Enumerable.Range(1, 5).Select(Photo).ToList();
        using var bytes = new MemoryStream();

        await PhotoPack.WriteAsync(new ForwardOnly(bytes), photos.Select(p => (p.Hash, ".JPG", (Stream)new MemoryStream(p.Bytes))));

        bytes.Position = 0;
        var wanted = new HashSet<string> { photos[1].Hash, photos[3].Hash, new string('0', 64) };
        var read = new List<(string Hash, byte[] Photo)>();
        await foreach (var photo in PhotoPack.ReadAsync(bytes, wanted)) read.Add(photo);
        Assert.Equal([photos[1].Hash, photos[3].Hash], read.Select(r => r.Hash)); // in written order; the unknown hash is absent
        Assert.Equal(photos[1].Bytes, read[0].Photo);
        Assert.Equal(photos[3].Bytes, read[1].Photo);

        // Any unzip tool reads it: entries named by content hash, stored as they are.
        bytes.Position = 0;
        using var zip = new ZipArchive(bytes, ZipArchiveMode.Read);
        Assert.Equal(photos.Select(p => p.Hash + ".jpg"), zip.Entries.Select(e => e.FullName));
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
    }

    [Fact]
    public void The_key_depends_on_the_photos_only_not_their_order_or_repeats()
    {
        var (a, b) = (Photo(1).Hash, Photo(2).Hash);

        Assert.Equal(PhotoPack.KeyOf([a, b]), PhotoPack.KeyOf([b, a, b]));
        Assert.NotEqual(PhotoPack.KeyOf([a, b]), PhotoPack.KeyOf([a]));
        Assert.Matches("^[0-9a-f]{32}$", PhotoPack.KeyOf([a]));
        Assert.Equal($"flowers/pack-{PhotoPack.KeyOf([a])}.zip", StorageNames.PhotoPackBlob("flowers", PhotoPack.KeyOf([a])));
    }

    [Fact]
    public async Task Bytes_that_are_not_a_pack_are_refused_as_invalid_data()
    {
        using var notZip = new MemoryStream(SyntheticPhotos.Jpeg(3));

        await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in PhotoPack.ReadAsync(notZip, wanted: null)) { }
        });
    }
}
