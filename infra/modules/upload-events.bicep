// The Event Grid system topic that publishes the storage account's blob events. Its subscription to the
// labelling function is made by scripts/postdeploy.*: the webhook URL carries the blobs_extension key,
// which exists only once the app's code is deployed and its host has started.
param name string
param location string
param tags object
param storageAccountName string

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}
