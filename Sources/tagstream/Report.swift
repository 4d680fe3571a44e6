import ArgumentParser
import Foundation
import TagStreamRuntime

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write report.html and report.json for a replay's output directory.",
        discussion: """
            Campaigns against their holdout (uplift in conversion with Newcombe's 95 % interval, \
            extra GMV per 1,000 coupons), overall and per ISO week; users per lifecycle stage and tier \
            each day and from month to month; ARPU per tier (from the input event files that \
            summary.json lists); alerts per week; communities over time and the ten most at risk. \
            For an A/B replay (replay --variant), the variant against the control: conversion, GMV, \
            coupons and lifecycle transitions per user, and churn, each with its 95 % interval. \
            report.html is one self-contained page; report.json holds every number on it. \
            docs/report.md says how each figure is computed.
            """)

    @Argument(help: "The --out directory of `tagstream replay`.")
    var directory: String

    func run() throws {
        let progress = ReportProgress()
        do {
            let report = try ReplayReport(directory: ReplayDirectory(path: directory), progress: progress)
            let paths = try report.write()
            progress.finish()
            print(report.text)
            print("Wrote \(paths.html) and \(paths.json)")
        } catch let error as RecordFileError {
            progress.finish()
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
