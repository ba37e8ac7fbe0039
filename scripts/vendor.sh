#!/usr/bin/env bash
# Re-vendor the UI's third-party front-end code from the npm registry into hub/ui/vendor/
# (run by hand when upgrading; the result is committed, nothing is fetched at run time).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LEAFLET=1.9.4
CLUSTER=1.5.3
HEAT=0.2.0
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack "leaflet@$LEAFLET" "leaflet.markercluster@$CLUSTER" "leaflet.heat@$HEAT" >/dev/null 2>&1
mkdir l m h
tar xzf "leaflet-$LEAFLET.tgz" -C l
tar xzf "leaflet.markercluster-$CLUSTER.tgz" -C m
tar xzf "leaflet.heat-$HEAT.tgz" -C h
DEST="$ROOT/hub/ui/vendor"
rm -rf "$DEST/leaflet" "$DEST/leaflet.markercluster" "$DEST/leaflet.heat"
mkdir -p "$DEST/leaflet/images" "$DEST/leaflet.markercluster" "$DEST/leaflet.heat"
cp l/package/dist/leaflet.js l/package/dist/leaflet.css l/package/LICENSE "$DEST/leaflet/"
cp l/package/dist/images/* "$DEST/leaflet/images/"
cp m/package/dist/leaflet.markercluster.js m/package/dist/MarkerCluster.css m/package/dist/MarkerCluster.Default.css m/package/MIT-LICENCE.txt "$DEST/leaflet.markercluster/"
cp h/package/dist/leaflet-heat.js h/package/LICENSE "$DEST/leaflet.heat/"
printf 'leaflet %s\nleaflet.markercluster %s\nleaflet.heat %s\n' "$LEAFLET" "$CLUSTER" "$HEAT" > "$DEST/VERSIONS"
echo "vendored into $DEST"
