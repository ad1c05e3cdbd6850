import SealctlKit
