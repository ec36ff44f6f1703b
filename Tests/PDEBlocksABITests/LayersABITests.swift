import Testing
@testable import PDEBlocksABI
