using System.Net;
using System.Net.Sockets;

namespace Flowers.LocalHost;

/// <summary>Ports on 127.0.0.1, where the local host, its Azurite and their test and bench copies listen.</summary>
public static class Loopback
{
    /// <summary>A port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<bool> IsListeningAsync(int port, CancellationToken ct = default)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
