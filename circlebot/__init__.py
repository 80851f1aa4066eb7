"""The application: configuration, the service that joins core and storage, and the CLI."""
