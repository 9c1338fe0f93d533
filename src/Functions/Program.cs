using Azure.Identity;
using Azure.Storage.Blobs;
using Flowers.Featurize;
using Flowers.Functions;
using Flowers.Pipeline;
using Flowers.Storage;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Run by `dotnet publish` (Flowers.Functions.csproj): the package carries the edited network, so no instance edits it.
if (args is [ResNet18Model.PrepareCommand, var networkFolder, var packageNetworkFolder])
{
    Console.WriteLine($"prepared {ResNet18Model.Prepare(networkFolder, packageNetworkFolder)}");
    return;
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.Configure<Microsoft.Azure.Functions.Worker.WorkerOptions>(WorkerJson.Configure);
builder.Services.AddSingleton(BlobServiceFrom(builder.Configuration));
builder.Services.AddTrainingPipeline(builder.Configuration.GetSection("Training").Get<TrainingSettings>());
builder.Services.AddHostedService<Flowers.Functions.Warmup>();
builder.Services.AddFlowersTelemetry(builder.Configuration); // on only with APPLICATIONINSIGHTS_CONNECTION_STRING
builder.Build().Run();

// The same storage account the host uses: a connection string (local: UseDevelopmentStorage=true), or, on Azure,
// identity-based settings AzureWebJobsStorage__blobServiceUri (+ __clientId for a user-assigned identity).
static BlobServiceClient BlobServiceFrom(IConfiguration configuration)
{
    if (configuration[StorageNames.Connection] is { Length: > 0 } connectionString) return new BlobServiceClient(connectionString);
    var identity = configuration.GetSection(StorageNames.Connection);
    var uri = identity["blobServiceUri"]
        ?? (identity["accountName"] is { } account ? $"https://{account}.blob.core.windows.net" : null)
        ?? throw new InvalidOperationException(
            $"Set {StorageNames.Connection} to a connection string, or {StorageNames.Connection}__blobServiceUri for a managed identity.");
    return new BlobServiceClient(new Uri(uri), new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = identity["clientId"] }));
}
