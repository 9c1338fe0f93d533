// The Flowers function app on a Flex Consumption plan (Linux, scales to zero, .NET 10 isolated worker).
param name string
param planName string
param location string
param tags object

@description('Service name in azure.yml; azd finds the app to deploy to by this tag.')
param serviceName string

param identityName string
param storageAccountName string

param packageContainerName string

@description('Durable Functions task hub (host.json extensions.durableTask.hubName).')
param taskHubName string

param applicationInsightsName string

// 2048 MB (1 vCPU): the featurizer (ResNet18, a 64 MB ONNX model, in ONNX Runtime) works in a
// 300-700 MB working set, host.json lets two activities run at once per instance, and the Functions
// host and the trained classifier need room too. 512 MB (0.25 vCPU) is too small and too slow;
// 4096 MB doubles the price of every GB-second for memory the app does not use.
var instanceMemoryMB = 2048

// Bounds what a burst of uploads or a big fan-out can cost.
var maximumInstanceCount = 40

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${account.properties.primaryEndpoints.blob}${packageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME and
  // FUNCTIONS_EXTENSION_VERSION must not be set here.
  resource settings 'config' = {
    name: 'appsettings'
    properties: {
      // Identity-based connection (StorageNames.Connection): no connection string, no key. The host,
      // the Durable task hub and the blob trigger all read this prefix.
      AzureWebJobsStorage__accountName: account.name
      AzureWebJobsStorage__blobServiceUri: account.properties.primaryEndpoints.blob
      AzureWebJobsStorage__queueServiceUri: account.properties.primaryEndpoints.queue
      AzureWebJobsStorage__tableServiceUri: account.properties.primaryEndpoints.table
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.properties.clientId
      // DefaultAzureCredential in app code picks the same user-assigned identity.
      AZURE_CLIENT_ID: identity.properties.clientId
      AzureFunctionsJobHost__extensions__durableTask__hubName: taskHubName
      // The Flex plan only delivers blob triggers through Event Grid: the published package leaves the polling
      // twin of the labelling function out (src/Functions/Flowers.Functions.csproj), and this keeps it off should
      // a package be published with it (locally it is the other way round, see local.settings.example.json).
      'AzureWebJobs.LabelUpload.Disabled': 'true'
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    }
  }
}

output url string = 'https://${app.properties.defaultHostName}'
