//! Property test on the real store: random action sequences by random
//! demo users never leave a task in a state the transition table does not
//! allow, every accepted step follows a rule, and the audit chain verifies
//! after every sequence.

use crate::harness::TestApp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use zhufang_store::service::{self, ServiceError, TransitionInput};

const USERS: [&str; 6] = ["s1.command", "s1.leader", "s1.officer", "s1.aux", "s2.officer", "admin"];
const ACTIONS: [&str; 10] =
    ["dispatch", "accept", "refuse", "start", "submit_feedback", "return", "evaluate", "reassign", "cancel", "bogus"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_respect_the_table_and_the_chain() {
    let app = TestApp::spawn().await;
    let store = app.store.clone();
    let wf = store.workflow("task").await.unwrap();
    let cal = store.calendar().await.unwrap();
    let mut users = vec![];
    for u in USERS {
        users.push(store.user_by_username(u).await.unwrap().unwrap().0);
    }
    let creator = users[0].clone();
    let handle = tokio::runtime::Handle::current();
    let cases = if std::env::var("ZHUFANG_TEST_PG").is_ok() { 12 } else { 24 };
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = proptest::collection::vec(
        (0usize..USERS.len(), 0usize..ACTIONS.len(), 0usize..4, any::<bool>(), 1i64..=5),
        1..25,
    );
    let result = runner.run(&strategy, |steps| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let org = store.org_unit_by_code("361202510000").await.unwrap().unwrap();
                let t = service::create_task(
                    store.as_ref(),
                    &service::GridRouter::empty(),
                    &creator,
                    service::CreateTask {
                        title: "性质测试".into(),
                        catalogue_code: "ZF-XF-001".into(),
                        org_unit: org.code.clone(),
                        description: None,
                        location: None,
                        due_at: None,
                    },
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
                let mut state = t.state.clone();
                for (u, a, who, with_note, score) in steps {
                    let input = TransitionInput {
                        action: ACTIONS[a].into(),
                        assignee: Some(USERS[who].into()),
                        note: with_note.then(|| "说明".to_string()),
                        score: Some(score),
                        ..Default::default()
                    };
                    let before = state.clone();
                    match service::transition(store.as_ref(), &wf, &cal, &users[u], t.id, input, chrono::Utc::now())
                        .await
                    {
                        Ok(after) => {
                            let rule = wf.rules.iter().find(|r| r.from == before && r.action == ACTIONS[a]);
                            prop_assert!(rule.is_some(), "{} from {} has no rule", ACTIONS[a], before);
                            prop_assert_eq!(&after.state, &rule.unwrap().to);
                            state = after.state;
                        }
                        Err(ServiceError::Store(e)) => return Err(TestCaseError::fail(format!("store error {e}"))),
                        Err(_) => {}
                    }
                    let now = store.task(t.id).await.unwrap().unwrap();
                    prop_assert_eq!(&now.state, &state);
                    prop_assert!(wf.state(&now.state).is_some());
                    prop_assert_eq!(
                        now.deadline_at.is_some(),
                        matches!(now.state.as_str(), "dispatched" | "accepted" | "in_progress")
                    );
                }
                match store.verify_audit().await.unwrap() {
                    zhufang_store::ChainStatus::Intact { .. } => Ok(()),
                    zhufang_store::ChainStatus::Broken(e) => Err(TestCaseError::fail(e.to_string())),
                }
            })
        })
    });
    result.unwrap();
    app.stop().await;
}
