"""The fault suite: platforms in trouble, databases that drop connections, processes killed, replicas added."""
