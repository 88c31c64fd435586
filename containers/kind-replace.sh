#!/usr/bin/env bash
# Replace CoreDNS by dnsd in a kind cluster and keep everything else (containers/kind.md).
#
# Usage: containers/kind-replace.sh [CLUSTER]    (CLUSTER: kind's cluster name, default "kind")
#
# Builds dnsd:dev, loads it into the cluster's nodes, swaps the image of the coredns
# Deployment through containers/kubernetes/kind-overlay, waits for the rollout and resolves a
# cluster name and an external name from throwaway pods. Needs docker, kind and kubectl; all
# kubectl calls use the context kind-CLUSTER. Running it again rebuilds the image and restarts
# the pods on it.
set -euo pipefail

cluster="${1:-kind}"
image="dnsd:dev" # the image containers/kubernetes/kind-overlay/image.yaml sets
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
overlay="$here/kubernetes/kind-overlay"
kubectl=(kubectl --context "kind-$cluster")

step() { printf '\n== %s\n' "$*"; }
die() {
  echo "kind-replace.sh: $*" >&2
  exit 1
}

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
clusters="$(kind get clusters)"
grep -qx -- "$cluster" <<<"$clusters" || die "no kind cluster named '$cluster' (kind get clusters: ${clusters:-none})"

step "build $image"
docker build -f "$root/containers/Dockerfile" -t "$image" "$root"

step "load $image into the nodes of kind cluster '$cluster'"
kind load docker-image "$image" --name "$cluster"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$overlay/kustomization.yaml" "$overlay/image.yaml" "$work/"

step "export the live coredns Deployment (the overlay's base)"
"${kubectl[@]}" -n kube-system get deployment coredns -o yaml |
  sed -E -e '/^status:/,$d' -e '/^  (creationTimestamp|generation|resourceVersion|uid):/d' \
    >"$work/coredns.yaml"
before="$(awk '$1 == "image:" { print $2; exit }' "$work/coredns.yaml")"
[ -n "$before" ] || die "no image found in the coredns Deployment"

if [ "$before" = "$image" ]; then
  step "the Deployment already runs $image: restart its pods on the image just loaded"
  "${kubectl[@]}" -n kube-system rollout restart deployment/coredns
else
  step "apply the overlay: the image changes from $before to $image, nothing else"
  "${kubectl[@]}" kustomize "$work" | "${kubectl[@]}" apply -f -
fi

step "wait for the rollout"
"${kubectl[@]}" -n kube-system rollout status deployment/coredns --timeout=300s
"${kubectl[@]}" -n kube-system get pods -l k8s-app=kube-dns -o wide
"${kubectl[@]}" -n kube-system logs deployment/coredns --tail=5

step "resolve from pods (kube-dns at 10.96.0.10)"
# busybox's nslookup ignores the search list (busybox >= 1.28.4), so it gets a full name;
# getent in Alpine goes through musl's resolver with the pod's search list and ndots:5.
"${kubectl[@]}" run dnstest-nslookup --rm -i --restart=Never --pod-running-timeout=3m \
  --image=busybox:1.36 -- nslookup kubernetes.default.svc.cluster.local
"${kubectl[@]}" run dnstest-getent --rm -i --restart=Never --pod-running-timeout=3m \
  --image=alpine:3.22 -- sh -c \
  'getent hosts kubernetes.default && getent hosts kube-dns.kube-system && getent hosts example.com'

step "done: dnsd serves the cluster's DNS"
if [ "$before" != "$image" ]; then
  echo "Back to CoreDNS: kubectl --context kind-$cluster -n kube-system rollout undo deployment/coredns"
  echo "             or: kubectl --context kind-$cluster -n kube-system set image deployment/coredns coredns=$before"
fi
