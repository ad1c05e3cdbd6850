/// SealctlKit module.
public enum SealctlKitModule {}
