// The identity the function app uses for storage, Application Insights and its deployment package:
// user-assigned so that its role assignments exist before the app first starts.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}
