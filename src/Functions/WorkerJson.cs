using System.Text.Json;
using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;

namespace Flowers.Functions;

/// <summary>
/// The worker's JSON: camelCase out, any case in. The isolated worker's default writes .NET names (PascalCase), so
/// Durable's 202 would say "Id"/"StatusQueryGetUri" where Durable Functions' HTTP API, its clients and our local host
/// say "id"/"statusQueryGetUri"; reading stays case-insensitive, so payloads written either way still load.
/// </summary>
public static class WorkerJson
{
    public static void Configure(WorkerOptions options) =>
        options.Serializer = new JsonObjectSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
