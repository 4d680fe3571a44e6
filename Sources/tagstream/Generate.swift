import ArgumentParser

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write realistic synthetic clickstream and order events.")
    func run() throws {}
}
