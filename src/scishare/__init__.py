"""SciShare: an open platform for sharing large research instruments and facilities."""

__version__ = "0.1.0"
