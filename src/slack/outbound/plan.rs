//! Which steps an event becomes in Slack. Every plan of a chat event starts by making sure of
//! the visitor's channel (made, or found again, when the channel map does not know it: a
//! `start` whose delivery failed for good leaves later events to make it); a notice about a
//! webhook is one post in the notification channel.

use super::event::Event;
use super::{notice, render};
use serde_json::Value;

/// One thing done in Slack.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// The visitor's channel: known, or made, or found and reused; unarchived.
    Channel,
    /// A post in the visitor's channel; `plain` is the same without blocks, should Slack refuse
    /// them.
    Post { args: Value, plain: Option<Value> },
    /// The new visitor's announcement in the notification channel, linking their channel.
    Announce,
    /// The visitor's channel archived (`archiveOnEnd`).
    Archive,
    /// A post in the notification channel alone (a notice about a webhook: see [`notice`]).
    Notice { args: Value },
}

/// An event's steps, or why nothing is posted for it.
pub enum Plan {
    Steps(Vec<Step>),
    Nothing(String),
}

/// The steps of `e`, whose message (if any) was written at `origin` (`messages.origin`).
pub fn plan(e: &Event, origin: &str, archive_on_end: bool) -> Plan {
    let post = |args: Value| Step::Post { args, plain: None };
    if notice::is_notice(&e.event) {
        return match &e.endpoint {
            Some(endpoint) => Plan::Steps(vec![Step::Notice {
                args: notice::render(&e.event, endpoint),
            }]),
            None => Plan::Nothing(format!("nothing posted: `{}` names no webhook", e.event)),
        };
    }
    let steps = match e.event.as_str() {
        "start" => {
            let (rich, plain) = render::header(e);
            let header = Step::Post {
                args: rich,
                plain: Some(plain),
            };
            vec![Step::Channel, header, Step::Announce]
        }
        "messageVisitor" | "messageAgent" => {
            if origin.starts_with("slack:") {
                return Plan::Nothing(format!(
                    "nothing posted: the message was written in Slack ({origin})"
                ));
            }
            let Some(m) = e.last_message() else {
                return Plan::Nothing("nothing posted: the event has no message".into());
            };
            let from_visitor = e.event == "messageVisitor";
            vec![Step::Channel, post(render::message(m, from_visitor))]
        }
        "email" => vec![Step::Channel, post(render::email_notice(e))],
        "end" => {
            let mut steps = vec![Step::Channel, post(render::end_notice(e, archive_on_end))];
            if archive_on_end {
                steps.push(Step::Archive);
            }
            steps
        }
        other => return Plan::Nothing(format!("nothing is posted in Slack for `{other}`")),
    };
    Plan::Steps(steps)
}

#[cfg(test)]
mod tests {
    use super::super::event::parse;
    use super::*;

    fn event(name: &str) -> Event {
        let mut e = parse(include_str!("../../../tests/fixtures/seed-example.json")).unwrap();
        e.event = name.into();
        e
    }

    fn steps(p: Plan) -> Vec<Step> {
        match p {
            Plan::Steps(s) => s,
            Plan::Nothing(why) => panic!("nothing: {why}"),
        }
    }

    #[test]
    fn each_event_has_its_steps() {
        let start = steps(plan(&event("start"), "", false));
        assert_eq!(start.len(), 3);
        assert_eq!(start[0], Step::Channel);
        assert_eq!(start[2], Step::Announce);
        let m = steps(plan(&event("messageAgent"), "", false));
        assert!(matches!(&m[1], Step::Post { args, .. } if args["username"] == "Moss"));
        assert_eq!(
            steps(plan(&event("end"), "", true)).last(),
            Some(&Step::Archive)
        );
        assert_eq!(steps(plan(&event("end"), "", false)).len(), 2);
        assert_eq!(steps(plan(&event("email"), "", false)).len(), 2);
    }

    #[test]
    fn messages_written_in_slack_are_not_posted_back() {
        assert!(matches!(
            plan(&event("messageAgent"), "slack:1700000000.000100", false),
            Plan::Nothing(_)
        ));
        assert!(matches!(plan(&event("open"), "", false), Plan::Nothing(_)));
    }
}
