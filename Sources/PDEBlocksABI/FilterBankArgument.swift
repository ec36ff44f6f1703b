import PDEBlocks

/// A 2D filter bank passed through the C ABI as `(filters, filter_shapes, filter_weights)`
/// (`include/pdeblocks_images.h`): `filter_shapes` holds four int64 per filter
/// (rows, columns, offset_y, offset_x), `filter_weights` the filters' row-major weights
/// one after the other. Every count is checked before any pointer arithmetic.
enum FilterBankArgument {
    /// The largest number of filters in one bank and the largest side of one filter.
    static let maxFilters = 1 << 12, maxSide = 1 << 10

    static func decode(
        _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?
    ) throws -> [Stencil2D] {
        let c = try Buffers.count(filters, "filters")
        guard c > 0 else { throw PDEBlocksError.invalidArgument("filter bank has no filters (filters = 0)") }
        guard c <= maxFilters else { throw PDEBlocksError.invalidArgument("filters = \(c) exceeds \(maxFilters)") }
        guard let shapes else { throw NullPointer(name: "filter_shapes") }
        var total = 0
        for k in 0..<c {
            let (rows, columns) = (shapes[4 * k], shapes[4 * k + 1])
            guard (1...Int64(maxSide)).contains(rows), (1...Int64(maxSide)).contains(columns) else {
                throw PDEBlocksError.invalidArgument(
                    "filter \(k) has shape \(rows)×\(columns); each side must be between 1 and \(maxSide)")
            }
            total += Int(rows * columns)
        }
        try Memory.reserve(total, for: "a copy of a filter bank of \(total) weights")
        let w = try Buffers.input(weights, total, "filter_weights")
        var bank: [Stencil2D] = []
        bank.reserveCapacity(c)
        var start = 0
        for k in 0..<c {
            let rows = Int(shapes[4 * k]), columns = Int(shapes[4 * k + 1])
            let (oy, ox) = (shapes[4 * k + 2], shapes[4 * k + 3])
            guard oy.magnitude < 1 << 40, ox.magnitude < 1 << 40 else {
                throw PDEBlocksError.invalidArgument("filter \(k) offset (\(oy), \(ox)) is out of range")
            }
            let values = Array(w[start..<(start + rows * columns)])
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw PDEBlocksError.nonFinite(
                    "filter \(k) weight [\(bad / columns), \(bad % columns)] is not finite (\(values[bad]))")
            }
            bank.append(try Stencil2D(weights: values, rows: rows, columns: columns, offsetY: Int(oy), offsetX: Int(ox)))
            start += rows * columns
        }
        return bank
    }
}
