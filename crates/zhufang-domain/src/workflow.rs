//! The generic workflow engine.
//!
//! A workflow is data: its states and its transition rules (from-state,
//! action, to-state, who may do it, which fields are required, and which
//! effects the transition has). Tasks use it now; incidents, disputes and
//! hazards reuse it with their own rows. The engine only decides; the store
//! applies the decision in one transaction.

use crate::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Who may fire a transition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "role")]
pub enum Actor {
    /// Anyone holding this role (inside the subject's org subtree).
    Role(Role),
    /// The subject's current assignee.
    Assignee,
    /// Whoever last dispatched the subject.
    Dispatcher,
    /// Whoever created the subject.
    Creator,
}

impl Actor {
    pub fn as_string(&self) -> String {
        match self {
            Actor::Role(r) => r.as_str().to_string(),
            Actor::Assignee => "assignee".into(),
            Actor::Dispatcher => "dispatcher".into(),
            Actor::Creator => "creator".into(),
        }
    }
}

impl FromStr for Actor {
    type Err = WorkflowDefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "assignee" => Ok(Actor::Assignee),
            "dispatcher" => Ok(Actor::Dispatcher),
            "creator" => Ok(Actor::Creator),
            other => {
                other.parse::<Role>().map(Actor::Role).map_err(|_| WorkflowDefError::UnknownActor(other.to_string()))
            }
        }
    }
}

/// What a transition does besides changing the state. Workflows of later
/// subjects add their own variants; unknown names are rejected at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Take the `assignee` field as the new assignee; the actor becomes dispatcher.
    SetAssignee,
    /// Drop the assignee (e.g. after a refusal).
    ClearAssignee,
    /// Count one rework (退回重办).
    CountRework,
    /// Record the `score` field (1–5).
    SetScore,
    /// Start the accept clock (接单时限, hours).
    StartAcceptClock,
    /// Start the finish clock (办结时限, working days).
    StartFinishClock,
    /// Stop any running clock.
    StopClock,
    /// Record the `note` as the feedback text, with photos and location.
    RecordFeedback,
}

impl Effect {
    pub const ALL: [Effect; 8] = [
        Effect::SetAssignee,
        Effect::ClearAssignee,
        Effect::CountRework,
        Effect::SetScore,
        Effect::StartAcceptClock,
        Effect::StartFinishClock,
        Effect::StopClock,
        Effect::RecordFeedback,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::SetAssignee => "set_assignee",
            Effect::ClearAssignee => "clear_assignee",
            Effect::CountRework => "count_rework",
            Effect::SetScore => "set_score",
            Effect::StartAcceptClock => "start_accept_clock",
            Effect::StartFinishClock => "start_finish_clock",
            Effect::StopClock => "stop_clock",
            Effect::RecordFeedback => "record_feedback",
        }
    }
}

impl FromStr for Effect {
    type Err = WorkflowDefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Effect::ALL
            .into_iter()
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| WorkflowDefError::UnknownEffect(s.to_string()))
    }
}

/// A condition on the actor beyond who may act: e.g. nobody evaluates
/// their own work. Unknown names are rejected at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// The actor must not be the subject's current assignee.
    NotAssignee,
    /// The actor must not be whoever dispatched the subject.
    NotDispatcher,
}

impl Guard {
    pub const ALL: [Guard; 2] = [Guard::NotAssignee, Guard::NotDispatcher];
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::NotAssignee => "not_assignee",
            Guard::NotDispatcher => "not_dispatcher",
        }
    }
    fn holds(self, subject: &Subject<'_>, actor: &ActorCtx<'_>) -> bool {
        match self {
            Guard::NotAssignee => subject.assignee != Some(actor.user_id),
            Guard::NotDispatcher => subject.dispatcher != Some(actor.user_id),
        }
    }
}

impl FromStr for Guard {
    type Err = WorkflowDefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Guard::ALL
            .into_iter()
            .find(|g| g.as_str() == s.trim())
            .ok_or_else(|| WorkflowDefError::UnknownGuard(s.to_string()))
    }
}

/// One state of a workflow, with its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDef {
    pub state: String,
    pub label_zh: String,
    pub label_en: String,
    /// No transition leaves a terminal state; it counts as closed.
    pub terminal: bool,
    /// States a new subject may start in.
    pub initial: bool,
}

/// One row of the transition table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRule {
    pub from: String,
    pub action: String,
    pub to: String,
    pub allowed: Vec<Actor>,
    pub required: Vec<String>,
    pub effects: Vec<Effect>,
    /// Conditions on the actor (all must hold).
    #[serde(default)]
    pub guards: Vec<Guard>,
    pub label_zh: String,
    pub label_en: String,
}

/// Errors in a workflow definition (found when it is loaded or edited).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowDefError {
    #[error("unknown actor `{0}`")]
    UnknownActor(String),
    #[error("unknown effect `{0}`")]
    UnknownEffect(String),
    #[error("unknown guard `{0}`")]
    UnknownGuard(String),
    #[error("transition {action} refers to unknown state `{state}`")]
    UnknownState { action: String, state: String },
    #[error("transition {action} leaves terminal state `{state}`")]
    LeavesTerminal { action: String, state: String },
    #[error("two transitions for action {action} from `{state}`")]
    Duplicate { action: String, state: String },
    #[error("the workflow has no initial state")]
    NoInitialState,
    #[error("transition {action} from `{state}` lists no one who may do it")]
    NobodyAllowed { action: String, state: String },
}

/// Why an action was refused. Maps to HTTP 409/403/422 at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    #[error("action `{action}` is not allowed from state `{state}`")]
    InvalidTransition { state: String, action: String },
    #[error("this user may not `{action}` here")]
    Forbidden { action: String },
    #[error("guard `{}` does not hold", guard.as_str())]
    GuardFailed { guard: Guard },
    #[error("missing required fields: {0:?}")]
    MissingFields(Vec<String>),
}

/// The facts about a subject the engine needs to decide.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub state: &'a str,
    pub assignee: Option<i64>,
    pub dispatcher: Option<i64>,
    pub creator: Option<i64>,
}

/// The acting user: id and roles. Jurisdiction (org subtree) is checked by
/// the caller before the engine is asked.
#[derive(Debug, Clone, Copy)]
pub struct ActorCtx<'a> {
    pub user_id: i64,
    pub roles: &'a [Role],
}

impl ActorCtx<'_> {
    fn matches(&self, subject: &Subject<'_>, actor: &Actor) -> bool {
        match actor {
            Actor::Role(r) => self.roles.contains(r),
            Actor::Assignee => subject.assignee == Some(self.user_id),
            Actor::Dispatcher => subject.dispatcher == Some(self.user_id),
            Actor::Creator => subject.creator == Some(self.user_id),
        }
    }
}

/// A validated workflow definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workflow {
    pub name: String,
    pub states: Vec<StateDef>,
    pub rules: Vec<TransitionRule>,
}

impl Workflow {
    /// Builds and checks a workflow: every state named exists, no rule leaves
    /// a terminal state, (from, action) is unique, every rule names someone.
    pub fn new(
        name: impl Into<String>,
        states: Vec<StateDef>,
        rules: Vec<TransitionRule>,
    ) -> Result<Self, WorkflowDefError> {
        if !states.iter().any(|s| s.initial) {
            return Err(WorkflowDefError::NoInitialState);
        }
        let mut seen = BTreeSet::new();
        for r in &rules {
            for st in [&r.from, &r.to] {
                if !states.iter().any(|s| &s.state == st) {
                    return Err(WorkflowDefError::UnknownState { action: r.action.clone(), state: st.clone() });
                }
            }
            if states.iter().any(|s| s.state == r.from && s.terminal) {
                return Err(WorkflowDefError::LeavesTerminal { action: r.action.clone(), state: r.from.clone() });
            }
            if !seen.insert((r.from.clone(), r.action.clone())) {
                return Err(WorkflowDefError::Duplicate { action: r.action.clone(), state: r.from.clone() });
            }
            if r.allowed.is_empty() {
                return Err(WorkflowDefError::NobodyAllowed { action: r.action.clone(), state: r.from.clone() });
            }
        }
        Ok(Self { name: name.into(), states, rules })
    }

    pub fn state(&self, state: &str) -> Option<&StateDef> {
        self.states.iter().find(|s| s.state == state)
    }

    pub fn is_terminal(&self, state: &str) -> bool {
        self.state(state).is_some_and(|s| s.terminal)
    }

    pub fn knows_action(&self, action: &str) -> bool {
        self.rules.iter().any(|r| r.action == action)
    }

    /// Decides whether `actor` may fire `action` on `subject`; `has_field`
    /// says whether a (non-empty) field was provided.
    pub fn decide(
        &self,
        subject: &Subject<'_>,
        actor: &ActorCtx<'_>,
        action: &str,
        has_field: &dyn Fn(&str) -> bool,
    ) -> Result<&TransitionRule, TransitionError> {
        if !self.knows_action(action) {
            return Err(TransitionError::UnknownAction(action.to_string()));
        }
        let rule = self.rules.iter().find(|r| r.from == subject.state && r.action == action).ok_or_else(|| {
            TransitionError::InvalidTransition { state: subject.state.to_string(), action: action.to_string() }
        })?;
        if !rule.allowed.iter().any(|a| actor.matches(subject, a)) {
            return Err(TransitionError::Forbidden { action: action.to_string() });
        }
        if let Some(g) = rule.guards.iter().find(|g| !g.holds(subject, actor)) {
            return Err(TransitionError::GuardFailed { guard: *g });
        }
        let missing: Vec<String> = rule.required.iter().filter(|f| !has_field(f)).cloned().collect();
        if !missing.is_empty() {
            return Err(TransitionError::MissingFields(missing));
        }
        Ok(rule)
    }

    /// The transitions this actor may fire from the subject's current state.
    pub fn available<'w>(&'w self, subject: &Subject<'_>, actor: &ActorCtx<'_>) -> Vec<&'w TransitionRule> {
        self.rules
            .iter()
            .filter(|r| {
                r.from == subject.state
                    && r.allowed.iter().any(|a| actor.matches(subject, a))
                    && r.guards.iter().all(|g| g.holds(subject, actor))
            })
            .collect()
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "workflow {}", self.name)?;
        for r in &self.rules {
            writeln!(f, "  {} --{}--> {}", r.from, r.action, r.to)?;
        }
        Ok(())
    }
}

/// Parses a comma-separated list (as stored in the transition table).
pub fn parse_list<T: FromStr>(s: &str) -> Result<Vec<T>, T::Err> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::parse).collect()
}
