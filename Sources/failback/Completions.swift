import ArgumentParser
import FailbackDomain

/// Values a shell completes (`failback --generate-completion-script bash|zsh|fish`): drill ids
/// from the store, and the phase and step ids of the current drill's runbook. The store is
/// `$FAILBACK_STORE`, else the default; completion asks nothing more of the command line.
enum Completions {
    static let drills = CompletionKind.custom { _, _, _ in
        (try? Workspace().openStore().drills().map(\.drillID)) ?? []
    }
    static let phases = CompletionKind.custom { _, _, _ in
        (try? Workspace().openRecorder().state(of: nil).phases.map(\.id)) ?? []
    }
    static let steps = CompletionKind.custom { _, _, _ in
        (try? Workspace().openRecorder().state(of: nil).steps.map(\.id)) ?? []
    }
}
