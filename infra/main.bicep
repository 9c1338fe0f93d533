// Flowers on Azure: one Flex Consumption function app, its storage account and its monitoring.
// `azd up` provisions this, deploys src/Functions, then scripts/postdeploy.* subscribes the labelling
// function to blob-created events on the uploads container.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; with the subscription and location it seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region for all resources. It must offer Flex Consumption: az functionapp list-flexconsumption-locations')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person running azd (azd fills it in). Gets blob data access to upload photos and read labels; empty skips it.')
param principalId string = ''

// The app's storage contract. Tests hold these equal to src/Core/Storage/StorageNames.cs and host.json.
var taskHubName = 'FlowersTaskHub'
var uploadsContainer = 'uploads'
var appContainers = [uploadsContainer, 'labels', 'claims', 'datasets', 'features', 'models']
// Flex Consumption runs the app from a zip that azd deploy puts in this container.
var packageContainer = 'app-package'

// The blob-triggered function that labels uploads; the post-deploy hook points Event Grid at it.
var labellingFunctionName = 'LabelUploadEventGrid'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
// Names are fixed before deployment (not read from module outputs) so that what-if sees every resource.
var names = {
  identity: 'id-func-${resourceToken}'
  storage: 'st${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  plan: 'plan-${resourceToken}'
  app: 'func-${resourceToken}'
  uploadEvents: 'evgt-${resourceToken}'
}

resource group 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: group
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  scope: group
  params: {
    name: names.storage
    location: location
    tags: tags
    containerNames: appContainers
    packageContainerName: packageContainer
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module access 'modules/access.bicep' = {
  scope: group
  params: {
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    appIdentityName: names.identity
    userPrincipalId: principalId
  }
  dependsOn: [identity, storage, monitoring]
}

module app 'modules/function-app.bicep' = {
  scope: group
  params: {
    name: names.app
    planName: names.plan
    location: location
    tags: tags
    serviceName: 'functions'
    identityName: names.identity
    storageAccountName: names.storage
    packageContainerName: packageContainer
    taskHubName: taskHubName
    applicationInsightsName: names.applicationInsights
  }
  // The host signs in to storage and Application Insights with the identity from its first start.
  dependsOn: [access]
}

module uploadEvents 'modules/upload-events.bicep' = {
  scope: group
  params: {
    name: names.uploadEvents
    location: location
    tags: tags
    storageAccountName: names.storage
  }
  dependsOn: [storage]
}

// azd stores these in .azure/<env>/.env and hands them to the hooks as environment variables.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = names.app
output AZURE_FUNCTION_APP_URL string = app.outputs.url
output AZURE_STORAGE_ACCOUNT_NAME string = names.storage
output UPLOADS_CONTAINER_NAME string = uploadsContainer
output UPLOADS_EVENTS_TOPIC_NAME string = names.uploadEvents
output LABELLING_FUNCTION_NAME string = labellingFunctionName
