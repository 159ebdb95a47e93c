"""Results: ranking, snapshots and publication, exports, anthology and service cards."""
