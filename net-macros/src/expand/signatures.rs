//! The methods of `Network` and `Layer` as the generated impls spell them:
//! each signature is written here once, and both the impl of a valid
//! network and the fallback after errors fill in the bodies.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use super::local;

/// One of the four visits, over parameters or buffers, shared or mutable.
#[derive(Clone, Copy)]
pub enum Visit {
    Params,
    ParamsMut,
    Buffers,
    BuffersMut,
}

impl Visit {
    pub const ALL: [Visit; 4] = [
        Visit::Params,
        Visit::ParamsMut,
        Visit::Buffers,
        Visit::BuffersMut,
    ];

    /// The method: `visit_params`, ….
    pub fn method(self) -> Ident {
        let name = match self {
            Visit::Params => "visit_params",
            Visit::ParamsMut => "visit_params_mut",
            Visit::Buffers => "visit_buffers",
            Visit::BuffersMut => "visit_buffers_mut",
        };
        Ident::new(name, Span::call_site())
    }

    /// The shared visit of the same items, which reads their names.
    pub fn shared(self) -> Visit {
        match self {
            Visit::Params | Visit::ParamsMut => Visit::Params,
            Visit::Buffers | Visit::BuffersMut => Visit::Buffers,
        }
    }

    pub fn is_mut(self) -> bool {
        matches!(self, Visit::ParamsMut | Visit::BuffersMut)
    }

    /// What `f` is given: `ParamRef`, `ParamMut`, `BufferRef`, `BufferMut`.
    pub fn item(self) -> Ident {
        let name = match self {
            Visit::Params => "ParamRef",
            Visit::ParamsMut => "ParamMut",
            Visit::Buffers => "BufferRef",
            Visit::BuffersMut => "BufferMut",
        };
        Ident::new(name, Span::call_site())
    }

    fn signature(self) -> TokenStream {
        let (method, item, f) = (self.method(), self.item(), local("f"));
        let receiver = if self.is_mut() {
            quote!(&mut self)
        } else {
            quote!(&self)
        };
        quote!(fn #method(#receiver, #f: &mut dyn FnMut(::staticnet::#item<'_, T>)))
    }
}

/// A method of `Network<T>`.
#[derive(Clone, Copy)]
pub enum NetworkMethod {
    Init,
    Forward,
    ForwardLoss,
    Scores,
    Backward,
    SetTraining,
    Visit(Visit),
}

/// A method of `Layer<T>`.
#[derive(Clone, Copy)]
pub enum LayerMethod {
    Init,
    SetTraining,
    Forward,
    Output,
    Backward,
    BackwardFirst,
    Visit(Visit),
}

/// Every method of `Network<T>` the generated impl writes, each with the
/// body `body` gives it. Arguments are named by [`local`]: `x`, `t`,
/// `rng`, `init`, `update`, `training`, `f`.
pub fn network_methods(body: impl FnMut(NetworkMethod) -> TokenStream) -> TokenStream {
    use NetworkMethod as M;
    let (x, t, update) = (local("x"), local("t"), local("update"));
    let (batch_in, batch_out) = (batch_in(), batch_out());
    let targets = quote!(::staticnet::Targets<'_, T, Self::Out>);
    let methods = [
        M::Init,
        M::Forward,
        M::ForwardLoss,
        M::Scores,
        M::Backward,
        M::SetTraining,
    ]
    .into_iter()
    .chain(Visit::ALL.map(M::Visit));
    let signature = |method| match method {
        M::Init => init_signature(),
        M::Forward => forward_signature(),
        M::ForwardLoss => quote!(fn forward_loss(&mut self, #x: #batch_in, #t: #targets) -> T),
        M::Scores => quote!(fn scores(&self) -> #batch_out),
        M::Backward => quote!(
            fn backward(&mut self, #x: #batch_in, #t: #targets, #update: ::staticnet::ParamUpdate<T>)
        ),
        M::SetTraining => set_training_signature(),
        M::Visit(visit) => visit.signature(),
    };
    items(methods, signature, body)
}

/// Every method of `Layer<T>` the generated impl writes, each with the
/// body `body` gives it; arguments as in [`network_methods`], and `dout`.
pub fn layer_methods(body: impl FnMut(LayerMethod) -> TokenStream) -> TokenStream {
    use LayerMethod as M;
    let (x, dout, update) = (local("x"), local("dout"), local("update"));
    let (batch_in, batch_out) = (batch_in(), batch_out());
    let methods = [
        M::Init,
        M::SetTraining,
        M::Forward,
        M::Output,
        M::Backward,
        M::BackwardFirst,
    ]
    .into_iter()
    .chain(Visit::ALL.map(M::Visit));
    let signature = |method| match method {
        M::Init => init_signature(),
        M::SetTraining => set_training_signature(),
        M::Forward => forward_signature(),
        M::Output => quote!(fn output(&self) -> #batch_out),
        M::Backward => {
            quote!(fn backward(&mut self, #x: #batch_in, #dout: #batch_out) -> #batch_in)
        }
        M::BackwardFirst => quote!(
            fn backward_first(&mut self, #x: #batch_in, #dout: #batch_out, #update: ::staticnet::ParamUpdate<T>)
        ),
        M::Visit(visit) => visit.signature(),
    };
    items(methods, signature, body)
}

/// Each of `methods` as an item: its signature, and the body `body` gives.
fn items<M: Copy>(
    methods: impl Iterator<Item = M>,
    signature: impl Fn(M) -> TokenStream,
    mut body: impl FnMut(M) -> TokenStream,
) -> TokenStream {
    let items = methods.map(|method| {
        let (signature, body) = (signature(method), body(method));
        quote!(#signature { #body })
    });
    quote!(#(#items)*)
}

fn batch_in() -> TokenStream {
    quote!(&::staticnet::Batch<T, Self::In>)
}

fn batch_out() -> TokenStream {
    quote!(&::staticnet::Batch<T, Self::Out>)
}

/// `forward`, the same in both traits.
fn forward_signature() -> TokenStream {
    let (x, batch_in, batch_out) = (local("x"), batch_in(), batch_out());
    quote!(fn forward(&mut self, #x: #batch_in) -> #batch_out)
}

fn init_signature() -> TokenStream {
    let (rng, init) = (local("rng"), local("init"));
    quote!(fn init(#rng: &mut dyn ::staticnet::rand::RngCore, #init: ::staticnet::Init) -> Self)
}

fn set_training_signature() -> TokenStream {
    let training = local("training");
    quote!(fn set_training(&mut self, #training: bool))
}
