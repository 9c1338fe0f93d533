# azd postdeploy hook (azure.yml): subscribes the labelling function to "blob created" events on the
# uploads container, so that every uploaded photo gets a label. Same steps as postdeploy.sh.
#
# Why after deploy and not in Bicep: on Flex Consumption a blob trigger only fires through Event Grid,
# and Event Grid must call the blob extension's webhook with the app's `blobs_extension` system key.
# That key is created by the Functions host when it first starts the deployed code, so it does not
# exist while `azd provision` runs (and `azd up` provisions before it deploys).
#
# Needs the Azure CLI, signed in to the same subscription (az login). azd passes the provisioning
# outputs as environment variables; to re-run by hand: azd hooks run postdeploy
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_FUNCTION_APP_URL',
    'UPLOADS_CONTAINER_NAME', 'UPLOADS_EVENTS_TOPIC_NAME', 'LABELLING_FUNCTION_NAME') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        Write-Error "postdeploy: $name is not set; run 'azd provision' first"
    }
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Write-Error 'postdeploy: the Azure CLI (az) is required: https://aka.ms/install-azure-cli'
}

$subscription = $env:AZURE_SUBSCRIPTION_ID
$group = $env:AZURE_RESOURCE_GROUP
$app = $env:AZURE_FUNCTION_APP_NAME

# Wake the app (it scales to zero) so that its host starts and creates the key.
try { Invoke-WebRequest -Uri "$($env:AZURE_FUNCTION_APP_URL)/api/health" -TimeoutSec 60 -UseBasicParsing | Out-Null } catch { }

Write-Host "postdeploy: waiting for the blobs_extension key of $app"
$key = ''
for ($attempt = 1; -not $key; $attempt++) {
    $key = az functionapp keys list --subscription $subscription --resource-group $group --name $app `
        --query systemKeys.blobs_extension --output tsv 2>$null
    if ($key) { break }
    if ($attempt -ge 30) {
        Write-Error ("postdeploy: $app has no blobs_extension key after 5 minutes. Is a function with an Event Grid " +
            "blob trigger deployed? Check the app's logs, then run: azd hooks run postdeploy")
    }
    Start-Sleep -Seconds 10
}

$endpoint = "$($env:AZURE_FUNCTION_APP_URL)/runtime/webhooks/blobs?functionName=Host.Functions.$($env:LABELLING_FUNCTION_NAME)&code=$key"
# On Windows az is a .cmd script: cmd.exe would cut the URL at '&' unless the argument arrives quoted.
$endpointArgument = if ($IsWindows) { "`"$endpoint`"" } else { $endpoint }

# Event Grid validates the webhook when the subscription is created; a cold app can miss that window.
Write-Host "postdeploy: subscribing $($env:LABELLING_FUNCTION_NAME) to blobs created in $($env:UPLOADS_CONTAINER_NAME)"
for ($attempt = 1; ; $attempt++) {
    az eventgrid system-topic event-subscription create `
        --subscription $subscription --resource-group $group `
        --system-topic-name $env:UPLOADS_EVENTS_TOPIC_NAME --name label-uploads `
        --endpoint-type webhook --endpoint $endpointArgument `
        --included-event-types Microsoft.Storage.BlobCreated `
        --subject-begins-with "/blobServices/default/containers/$($env:UPLOADS_CONTAINER_NAME)/" `
        --output none
    if ($LASTEXITCODE -eq 0) { break }
    if ($attempt -ge 3) {
        Write-Error 'postdeploy: could not create the Event Grid subscription; run: azd hooks run postdeploy'
    }
    Start-Sleep -Seconds 20
}
Write-Host "postdeploy: photos uploaded to '$($env:UPLOADS_CONTAINER_NAME)' are now labelled by $($env:LABELLING_FUNCTION_NAME)"
