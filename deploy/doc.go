// Package deploy contains no Go code of its own. Its test checks the Slurm
// scripts and Kubernetes manifests in this folder. The scripts must parse
// with bash -n, and the manifests must parse as YAML with apiVersion, kind
// and metadata.name. Every script and container may pass only flags that
// coordinator serve and agent join accept.
package deploy
