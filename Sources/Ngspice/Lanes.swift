/// Clips run side by side, each on its own share of the workers: how a caller that runs a clip as a
/// sequence of small job batches (a partitioned clip, stage by stage) keeps every core busy while
/// running no more than `workers` simulations at once.
public struct Lanes: Sendable, Equatable {
    /// How many items run at once.
    public let count: Int
    /// The workers each of them runs its jobs on.
    public let workersEach: Int

    /// Lanes for `items` items on `workers` workers: one per worker, fewer when there are fewer items.
    public init(workers: Int, items: Int) {
        count = max(1, min(workers, items))
        workersEach = max(1, workers / count)
    }

    /// Runs `body` on every item, `count` at a time, each starting as a lane frees up. The first error
    /// stops further starts, cancels the items still running, and is thrown once they have ended.
    public func forEach<Item: Sendable, Failure: Error>(_ items: [Item],
                                                        _ body: @escaping @Sendable (Item) async throws(Failure) -> Void)
        async throws(Failure)
    {
        var next = items.makeIterator()
        let failure = await withTaskGroup(of: Failure?.self) { group -> Failure? in
            func start() {
                guard let item = next.next() else { return }
                group.addTask {
                    do throws(Failure) {
                        try await body(item)
                        return nil
                    } catch { return error }
                }
            }
            for _ in 0..<count { start() }
            var first: Failure?
            while let ended = await group.next() {
                if first == nil, let ended {
                    first = ended
                    group.cancelAll()
                }
                if first == nil { start() }
            }
            return first
        }
        if let failure { throw failure }
    }
}
