#!/bin/sh
# azd postdeploy hook (azure.yml): subscribes the labelling function to "blob created" events on the
# uploads container, so that every uploaded photo gets a label.
#
# Why after deploy and not in Bicep: on Flex Consumption a blob trigger only fires through Event Grid,
# and Event Grid must call the blob extension's webhook with the app's `blobs_extension` system key.
# That key is created by the Functions host when it first starts the deployed code, so it does not
# exist while `azd provision` runs (and `azd up` provisions before it deploys).
#
# Needs the Azure CLI, signed in to the same subscription (az login). azd passes the provisioning
# outputs as environment variables; to re-run by hand: azd hooks run postdeploy
set -eu

need() { eval "v=\${$1:-}"; [ -n "$v" ] || { echo "postdeploy: $1 is not set; run 'azd provision' first" >&2; exit 1; }; }
for name in AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME AZURE_FUNCTION_APP_URL \
  UPLOADS_CONTAINER_NAME UPLOADS_EVENTS_TOPIC_NAME LABELLING_FUNCTION_NAME; do
  need "$name"
done
command -v az >/dev/null 2>&1 || { echo "postdeploy: the Azure CLI (az) is required: https://aka.ms/install-azure-cli" >&2; exit 1; }

subscription="$AZURE_SUBSCRIPTION_ID"
group="$AZURE_RESOURCE_GROUP"
app="$AZURE_FUNCTION_APP_NAME"

# Wake the app (it scales to zero) so that its host starts and creates the key.
if command -v curl >/dev/null 2>&1; then
  curl --silent --output /dev/null --max-time 60 "$AZURE_FUNCTION_APP_URL/api/health" || true
fi

echo "postdeploy: waiting for the blobs_extension key of $app"
key=""
attempts=0
while :; do
  key=$(az functionapp keys list --subscription "$subscription" --resource-group "$group" --name "$app" \
    --query systemKeys.blobs_extension --output tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 30 ]; then
    echo "postdeploy: $app has no blobs_extension key after 5 minutes. Is a function with an Event Grid" \
      "blob trigger deployed? Check the app's logs, then run: azd hooks run postdeploy" >&2
    exit 1
  fi
  sleep 10
done

endpoint="$AZURE_FUNCTION_APP_URL/runtime/webhooks/blobs?functionName=Host.Functions.$LABELLING_FUNCTION_NAME&code=$key"

# Event Grid validates the webhook when the subscription is created; a cold app can miss that window.
echo "postdeploy: subscribing $LABELLING_FUNCTION_NAME to blobs created in $UPLOADS_CONTAINER_NAME"
attempts=0
until az eventgrid system-topic event-subscription create \
  --subscription "$subscription" --resource-group "$group" \
  --system-topic-name "$UPLOADS_EVENTS_TOPIC_NAME" --name label-uploads \
  --endpoint-type webhook --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/$UPLOADS_CONTAINER_NAME/" \
  --output none; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 3 ]; then
    echo "postdeploy: could not create the Event Grid subscription; run: azd hooks run postdeploy" >&2
    exit 1
  fi
  sleep 20
done
echo "postdeploy: photos uploaded to '$UPLOADS_CONTAINER_NAME' are now labelled by $LABELLING_FUNCTION_NAME"
